"""Tiny offline tokenizers of the three common kinds, for tests.

Each builder trains a ``tokenizers`` model in memory on :data:`CORPUS` (a few dozen sentences,
so the vocabulary holds a few hundred entries and a random model with
``vocab_size=len(tokenizer)`` stays small) and wraps it in ``transformers.PreTrainedTokenizerFast``
with the special tokens and post-processing of the family it imitates:

* :func:`wordpiece_tokenizer` - BERT: ``##`` continuations, ``[CLS] A [SEP] B [SEP]``, token type
  ids. The pad id is deliberately not 0, so code that hard-codes 0 fails.
* :func:`bpe_tokenizer` - RoBERTa: byte-level BPE (``Ġ`` marks a leading space),
  ``<s> A </s></s> B </s>``, no token type ids.
* :func:`unigram_tokenizer` - ALBERT/DeBERTa-v3: SentencePiece-style Unigram with ``▁`` (Metaspace),
  ``[CLS] A [SEP] B [SEP]`` with token type ids.

Training happens once per configuration (cached as JSON); every call returns a fresh, independent
tokenizer, so a test may change ``padding_side`` or add tokens without affecting other tests.
No file or network access is involved.

Every process gets the same vocabulary and ids: the ``tokenizers`` trainers break ties through
Rust hash maps seeded at random per process (the WordPiece vocabulary itself changed from run
to run, the Unigram ids and the last digits of its scores too), so the WordPiece vocabulary is
learned here with explicit tie-breaking (:func:`_wordpiece_vocab`), and so is the Unigram one
(:func:`_unigram_vocab`; substring frequencies, since its trainer's EM scores differed in the 4th decimal). ``tests/text/test_tiny_tokenizers.py``
checks it across processes with different ``PYTHONHASHSEED``.

This module is not called ``tokenizers.py`` on purpose: run with ``tests/text`` on ``sys.path``
(``python tests/text/x.py``, some pytest import modes), such a file would hide the ``tokenizers``
package it imports.
"""

from __future__ import annotations

import functools
import math
from collections import Counter

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

CORPUS: tuple[str, ...] = (
    "The film was a quiet triumph, and the audience loved every minute of it.",
    "I did not enjoy the plot; it dragged on and on without any purpose.",
    "What a wonderful, warm and funny story about two old friends!",
    "The acting is wooden, the dialogue is clumsy, and the ending is predictable.",
    "She said the café near the station serves the best coffee in town.",
    "Nobody expected the sequel to be better than the original, but it is.",
    "It's a mess: too long, too loud, and never as clever as it thinks.",
    "Honestly, this was one of the most boring evenings I've ever spent.",
    "The music lifts every scene and the photography is simply beautiful.",
    "He wasn't sure whether to laugh or cry when the lights came up.",
    "A premise that promises much and delivers little.",
    "Despite a weak start, the second half is thrilling and surprisingly moving.",
    "The characters feel real, their problems matter, and their jokes land.",
    "If you liked the book, you will probably hate what they did to it.",
    "Two hours of my life I will never get back.",
    "The children in the theatre were laughing from beginning to end.",
    "Über-stylish visuals cannot hide the fact that nothing happens.",
    "A small, brave, beautifully made film that deserves a large audience.",
    "The director's earlier work was sharper, funnier and much more daring.",
    "Nothing here is new, yet everything feels fresh and alive.",
    "The premise is that a man finds a key; the hypothesis is that it opens a door.",
    "A dog is running in the park. An animal is outside.",
    "Three people are sitting at a table and eating dinner together.",
    "The weather was cold, so they stayed at home and watched a movie.",
    "Numbers like 42, 3.14 and 1,000 appear in reviews now and then.",
    "Is it good? Is it bad? Does anyone really know?",
    "They don't make films like this anymore, and that's a shame.",
    "Not bad at all, although not great either.",
)
"""Sentences the tiny tokenizers are trained on (written for these tests)."""

WORDPIECE_SPECIALS = ("[UNK]", "[CLS]", "[SEP]", "[MASK]", "[PAD]")
"""BERT-style specials, in id order: ``[PAD]`` gets id 4, not 0."""

BPE_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
"""RoBERTa-style specials, in id order (``<pad>`` is 1, as in RoBERTa)."""

UNIGRAM_SPECIALS = ("<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]")
"""ALBERT-style specials, in id order (``<pad>`` is 0, as in ALBERT)."""

DEFAULT_MAX_LENGTH = 128
"""``model_max_length`` of the built tokenizers unless a test asks for another."""


def _template(tokenizer: Tokenizer, cls: str, sep: str) -> processors.TemplateProcessing:
    """BERT's ``[CLS] A [SEP] B [SEP]`` template, with segment 1 for the pair part."""
    return processors.TemplateProcessing(
        single=f"{cls} $A {sep}",
        pair=f"{cls} $A {sep} $B:1 {sep}:1",
        special_tokens=[(cls, tokenizer.token_to_id(cls)), (sep, tokenizer.token_to_id(sep))],
    )


def _wordpiece_vocab(normalizer: normalizers.Normalizer, pre_tokenizer: pre_tokenizers.PreTokenizer, size: int) -> dict[str, int]:
    """WordPiece's vocabulary as its trainer learns it (BPE merges over ``##`` pieces), ties broken by the pieces' text.

    The specials come first, then every character (``##c`` inside a word), then the most frequent
    merge of two adjacent pieces, repeatedly, until ``size`` entries.
    """
    counts = Counter(word for line in CORPUS for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(line)))
    words = {word: [word[0], *(f"##{c}" for c in word[1:])] for word in sorted(counts)}
    vocab = [*WORDPIECE_SPECIALS, *sorted({piece for pieces in words.values() for piece in pieces})]
    known = set(vocab)
    while len(vocab) < size:
        pairs: Counter[tuple[str, str]] = Counter()
        for word, pieces in words.items():
            for pair in zip(pieces, pieces[1:]):
                pairs[pair] += counts[word]
        if not pairs:
            break
        first, second = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merged = first + second.removeprefix("##")
        for pieces in words.values():
            at = 0
            while at < len(pieces) - 1:
                if (pieces[at], pieces[at + 1]) == (first, second):
                    pieces[at : at + 2] = [merged]
                at += 1
        if merged not in known:
            known.add(merged)
            vocab.append(merged)
    return {piece: index for index, piece in enumerate(vocab)}


@functools.cache
def _wordpiece_json() -> str:
    normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    vocab = _wordpiece_vocab(normalizer, pre_tokenizer, 300)
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    tokenizer.post_processor = _template(tokenizer, "[CLS]", "[SEP]")
    return tokenizer.to_str()


@functools.cache
def _bpe_json(add_prefix_space: bool, trim_offsets: bool) -> str:
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=list(BPE_SPECIALS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(CORPUS, trainer=trainer)
    tokenizer.post_processor = processors.RobertaProcessing(
        ("</s>", tokenizer.token_to_id("</s>")),
        ("<s>", tokenizer.token_to_id("<s>")),
        trim_offsets=trim_offsets,
        add_prefix_space=add_prefix_space,
    )
    return tokenizer.to_str()


def _unigram_vocab(normalizer: normalizers.Normalizer, pre_tokenizer: pre_tokenizers.PreTokenizer, size: int) -> list[tuple[str, float]]:
    """A Unigram vocabulary with scores, ties broken by the pieces' text: the specials (score 0), every
    character, then the substrings (up to 8 characters) covering the most characters of the corpus;
    each piece scores the log of its share of all substring occurrences."""
    counts = Counter(word for line in CORPUS for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(line)))
    occurrences: Counter[str] = Counter()
    for word, count in sorted(counts.items()):
        for start in range(len(word)):
            for end in range(start + 1, min(len(word), start + 8) + 1):
                occurrences[word[start:end]] += count
    characters = sorted(piece for piece in occurrences if len(piece) == 1)
    longer = sorted((p for p in occurrences if len(p) > 1), key=lambda p: (-occurrences[p] * len(p), p))
    chosen = characters + longer[: size - len(UNIGRAM_SPECIALS) - len(characters)]
    total = sum(occurrences[piece] for piece in chosen)
    return [(special, 0.0) for special in UNIGRAM_SPECIALS] + [(piece, math.log(occurrences[piece] / total)) for piece in chosen]


@functools.cache
def _unigram_json() -> str:
    normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer = Tokenizer(models.Unigram(_unigram_vocab(normalizer, pre_tokenizer, 260), unk_id=UNIGRAM_SPECIALS.index("<unk>")))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.add_special_tokens(list(UNIGRAM_SPECIALS))
    tokenizer.post_processor = _template(tokenizer, "[CLS]", "[SEP]")
    return tokenizer.to_str()


def wordpiece_tokenizer(model_max_length: int = DEFAULT_MAX_LENGTH) -> PreTrainedTokenizerFast:
    """A BERT-like WordPiece tokenizer (lower-cases, ``[PAD]`` id 4, token type ids)."""
    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(_wordpiece_json()),
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        mask_token="[MASK]",
        model_max_length=model_max_length,
        model_input_names=["input_ids", "token_type_ids", "attention_mask"],
    )


def bpe_tokenizer(
    model_max_length: int = DEFAULT_MAX_LENGTH, *, add_prefix_space: bool = False, trim_offsets: bool = True
) -> PreTrainedTokenizerFast:
    """A RoBERTa-like byte-level BPE tokenizer (no token type ids).

    RoBERTa's defaults are ``add_prefix_space=False`` and ``trim_offsets=True``; with
    ``trim_offsets=False`` the offsets of ``Ġ`` tokens include the leading space, which
    downstream code must trim.
    """
    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(_bpe_json(add_prefix_space, trim_offsets)),
        bos_token="<s>",
        eos_token="</s>",
        cls_token="<s>",
        sep_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        add_prefix_space=add_prefix_space,
        model_max_length=model_max_length,
        model_input_names=["input_ids", "attention_mask"],
    )


def unigram_tokenizer(model_max_length: int = DEFAULT_MAX_LENGTH) -> PreTrainedTokenizerFast:
    """An ALBERT/DeBERTa-v3-like SentencePiece Unigram tokenizer (``▁``, lower-cases, token type ids)."""
    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(_unigram_json()),
        unk_token="<unk>",
        cls_token="[CLS]",
        sep_token="[SEP]",
        pad_token="<pad>",
        mask_token="[MASK]",
        model_max_length=model_max_length,
        model_input_names=["input_ids", "token_type_ids", "attention_mask"],
    )


TOKENIZER_BUILDERS = {
    "wordpiece": wordpiece_tokenizer,
    "bpe": bpe_tokenizer,
    "unigram": unigram_tokenizer,
}
"""The three kinds by name, for ``pytest.mark.parametrize``."""
