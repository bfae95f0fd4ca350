"""Human rationales: which parts of a text people say carry its label, as character spans.

Two loaders for the data in ``shared/data`` (or any copy in the same format):

* :func:`load_sst_rationales`: Stanford Sentiment Treebank PTB trees, where every word has a
  sentiment label 0-4. A sentence whose root is negative (0, 1) has as rationale its words labelled
  0 or 1; a positive sentence (3, 4) its words labelled 3 or 4. Neutral sentences (2) are skipped
  unless asked for (they have no class to support). The text is the leaves joined by single spaces
  with PTB escapes undone (``-LRB-`` -> ``(``, `````` and ``''`` -> ``"``, ``\\/`` -> ``/``, ...).
* :func:`load_toxic_spans`: SemEval-2021 toxic spans, a CSV of ``spans`` (a list of character
  offsets) and ``text``; every post is toxic. Offsets outside the text are dropped.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

from limelight.errors import InvalidInputError

PTB_ESCAPES: dict[str, str] = {
    "-LRB-": "(",
    "-RRB-": ")",
    "-LSB-": "[",
    "-RSB-": "]",
    "-LCB-": "{",
    "-RCB-": "}",
    "``": '"',
    "''": '"',
}
"""Whole-token PTB escapes and what they stand for."""

SST_CLASSES: dict[int, int] = {0: 0, 1: 0, 3: 1, 4: 1}
"""SST fine label (0-4) -> binary class index (0 negative, 1 positive); 2 is neutral."""

_TREE_TOKEN = re.compile(r"\(|\)|[^\s()]+")


@dataclass(frozen=True)
class Rationale:
    """A text, the label its rationale supports, and the rationale as ``[start, end)`` character spans.

    ``words``/``word_offsets``/``word_labels`` keep the annotated units where the source has them
    (SST leaves and their 0-4 labels); they are empty for span-only data.
    """

    text: str
    label: str
    spans: tuple[tuple[int, int], ...]
    words: tuple[str, ...] = ()
    word_offsets: tuple[tuple[int, int], ...] = ()
    word_labels: tuple[int, ...] = ()

    def rationale_words(self) -> list[str]:
        """The annotated words inside the rationale (SST), or the text of each span."""
        if self.words:
            marked = set(self.spans)
            return [word for word, offset in zip(self.words, self.word_offsets) if offset in marked]
        return [self.text[start:end] for start, end in self.spans]


def unescape_ptb(token: str) -> str:
    """A PTB leaf as plain text (whole-token escapes, then escaped ``/`` and ``*``)."""
    return PTB_ESCAPES.get(token, token).replace("\\/", "/").replace("\\*", "*")


def parse_sst_tree(line: str) -> tuple[int, list[tuple[int, str]]]:
    """The root label and the ``(label, word)`` leaves, in order, of one PTB-bracketed SST tree."""
    tokens = _TREE_TOKEN.findall(line)
    root: int | None = None
    leaves: list[tuple[int, str]] = []
    stack: list[list[object]] = []  # each open node: [label, word or None, has_children]
    position = 0
    while position < len(tokens):
        token = tokens[position]
        if token == "(":
            if position + 1 >= len(tokens) or not tokens[position + 1].isdigit():
                raise InvalidInputError(f"malformed SST tree (a node without a numeric label): {line[:80]!r}")
            if stack:
                stack[-1][2] = True
            stack.append([int(tokens[position + 1]), None, False])
            position += 2
            continue
        if token == ")":
            if not stack:
                raise InvalidInputError(f"malformed SST tree (unbalanced brackets): {line[:80]!r}")
            label, word, has_children = stack.pop()
            if word is not None and not has_children:
                leaves.append((int(label), str(word)))  # type: ignore[call-overload]
            if not stack:
                root = int(label)  # type: ignore[call-overload]
        elif stack:
            stack[-1][1] = token
        position += 1
    if stack or root is None:
        raise InvalidInputError(f"malformed SST tree (unbalanced brackets): {line[:80]!r}")
    return root, leaves


def sst_rationale(line: str, labels: tuple[str, str] = ("negative", "positive")) -> Rationale | None:
    """The rationale of one SST tree line; ``None`` for a neutral sentence."""
    root, leaves = parse_sst_tree(line)
    words = [unescape_ptb(word) for _, word in leaves]
    offsets, cursor = [], 0
    for word in words:
        offsets.append((cursor, cursor + len(word)))
        cursor += len(word) + 1
    sentence_class = SST_CLASSES.get(root)
    if sentence_class is None:
        return None
    spans = tuple(offset for offset, (label, _) in zip(offsets, leaves) if SST_CLASSES.get(label) == sentence_class)
    return Rationale(" ".join(words), labels[sentence_class], spans, tuple(words), tuple(offsets), tuple(label for label, _ in leaves))


def load_sst_rationales(path: str | Path, split: str = "dev", labels: tuple[str, str] = ("negative", "positive")) -> list[Rationale]:
    """Rationales of the non-neutral sentences of SST trees: ``path`` is a trees file or a folder holding ``{split}.txt``.

    ``labels`` names the negative and positive class the way the model's config does.
    """
    file = Path(path)
    if file.is_dir():
        file = file / f"{split}.txt"
    if not file.is_file():
        raise InvalidInputError(f"no SST trees file at {file}; pass the file or the folder holding {split}.txt")
    rationales = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rationale = sst_rationale(line, labels)
        except InvalidInputError as error:
            raise InvalidInputError(f"{file}, line {number}: {error}") from error
        if rationale is not None:
            rationales.append(rationale)
    return rationales


def character_runs(offsets: list[int]) -> tuple[tuple[int, int], ...]:
    """Contiguous ``[start, end)`` runs of a set of character offsets."""
    runs: list[tuple[int, int]] = []
    for offset in sorted(set(offsets)):
        if runs and runs[-1][1] == offset:
            runs[-1] = (runs[-1][0], offset + 1)
        else:
            runs.append((offset, offset + 1))
    return tuple(runs)


def load_toxic_spans(path: str | Path, label: str = "toxic") -> list[Rationale]:
    """Posts and their toxic character spans from a SemEval-2021 toxic spans CSV (``spans,text``)."""
    file = Path(path)
    if not file.is_file():
        raise InvalidInputError(f"no toxic spans CSV at {file}")
    rationales = []
    with open(file, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"spans", "text"} <= set(reader.fieldnames):
            raise InvalidInputError(f"{file} must be a CSV with columns 'spans' and 'text', got {reader.fieldnames}")
        for number, row in enumerate(reader, start=2):
            try:
                offsets = json.loads(row["spans"])
            except json.JSONDecodeError as error:
                raise InvalidInputError(f"{file}, record {number}: spans {row['spans'][:40]!r} is not a list of offsets") from error
            text = row["text"]
            inside = [int(o) for o in offsets if isinstance(o, int) and 0 <= o < len(text)]
            rationales.append(Rationale(text, label, character_runs(inside)))
    return rationales
