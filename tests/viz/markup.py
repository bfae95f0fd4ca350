"""A strict reader of the HTML limelight writes, for tests: nesting, tags, attributes, text."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"meta"}
ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "h1",
    "div",
    "section",
    "span",
    "strong",
    "table",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {
    "lang",
    "charset",
    "name",
    "content",
    "class",
    "style",
    "title",
    "role",
    "aria-label",
    "scope",
    "data-index",
    "data-score",
    "data-segment",
}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: list[str] = field(default_factory=list)
    children: list[Element] = field(default_factory=list)

    def all_text(self) -> str:
        """Concatenated text of this element and its descendants, in document order."""
        return "".join(self.text)

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        found = []
        for child in self.children:
            if (tag is None or child.tag == tag) and (cls is None or cls in child.attrs.get("class", "").split()):
                found.append(child)
            found.extend(child.find_all(tag, cls))
        return found


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.stack = [self.root]
        self.errors: list[str] = []
        self.doctype: str | None = None

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"unexpected tag <{tag}>")
        names = [name for name, _ in attrs]
        if len(set(names)) != len(names):
            self.errors.append(f"duplicate attribute in <{tag}>")
        self.errors.extend(f"unexpected attribute {n!r} on <{tag}>" for n in names if n not in ALLOWED_ATTRIBUTES)
        element = Element(tag, {n: v or "" for n, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if len(self.stack) == 1 or self.stack[-1].tag != tag:
            self.errors.append(f"</{tag}> does not close <{self.stack[-1].tag}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        for element in self.stack:
            element.text.append(data)


def read(markup: str) -> tuple[Element, list[str], str | None]:
    """Parse ``markup``: the tree, the problems found (unclosed, unknown or unsafe markup), the doctype."""
    reader = _Reader()
    reader.feed(markup)
    reader.close()
    errors = reader.errors + [f"<{e.tag}> never closed" for e in reader.stack[1:]]
    return reader.root, errors, reader.doctype
