"""What a hostile person types, and what the system may keep of it.

Each entry is text that reaches a field whole (the transport's own attacks, invalid UTF-8 and
bodies past the limit, are the tests' business). The rule for what is kept is independent of
the code under test: markup, entities, template syntax and formula starters are kept exactly as
typed (shown escaped, never interpreted); control characters, bidirectional controls and
zero-width characters are dropped; a line break in a one-line field is a space.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser

SCRIPT = "<script>window.__pwned=1;alert('xss')</script>"
IMG = "<img src=x onerror=\"window.__pwned=1;alert('img')\">"
JS_LINK = '<a href="javascript:window.__pwned=1" onclick="window.__pwned=1">bấm vào đây</a>'
ATTR_BREAK = "\"'><svg onload=window.__pwned=1>"
ENTITIES = "&lt;b&gt;không đậm&lt;/b&gt; &amp;amp; &#x3C;i&#x3E; &quot;"
JINJA = "{{ 7*7 }} {{ ''.__class__.__mro__ }} {% for x in range(3) %}{{ x }}{% endfor %}"
CRLF = "Dòng một\r\nBcc: ke-gian@example.com\r\nSubject: bị chèn"
CONTROLS = "Có\x00 ký\x01 tự\x07 điều\x08 khiển\x0b\x0c\x1b\x1f\x7f C0 và\x80\x81\x9f C1"
ZERO_WIDTH = "Nguy\u200bễn\u200c Văn\u200d Tâm\u2060 \ufeffđây"
BIDI = "Tên thật \u202eTÂM NĂV NỄYUGN\u202c rồi \u2066cách\u2069 ly \u200fdấu\u200e \u061c"
FORMULAS = ('=HYPERLINK("http://ke-gian.example","Bấm")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)")
VIETNAMESE = "Sáng kiến “tiết kiệm” điện năng – Nguyễn Thị Ỷ Lệ, Đặng Văn Ước"

CORPUS: dict[str, str] = {
    "script": SCRIPT,
    "img": IMG,
    "js_link": JS_LINK,
    "attr_break": ATTR_BREAK,
    "entities": ENTITIES,
    "jinja": JINJA,
    "crlf": CRLF,
    "controls": CONTROLS,
    "zero_width": ZERO_WIDTH,
    "bidi": BIDI,
    "formula": FORMULAS[0],
    "vietnamese": VIETNAMESE,
}

# What may never be kept: C0 and C1 controls but tab and line feed, DEL, the bidirectional
# embeddings, overrides, isolates and marks, and the zero-width characters.
# (NEL, U+0085, is a line break: a space in a one-line field.)
INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x84\x86-\x9f"
    "\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufffe\uffff]"
)


def kept_line(typed: str) -> str:
    """A one-line field as it must be kept: NFC, the invisible dropped, white space folded."""
    return " ".join(unicodedata.normalize("NFC", INVISIBLE.sub("", typed)).split())


def kept_text(typed: str) -> str:
    """A multi-line field: the same, but line breaks kept (CR LF and CR as LF)."""
    text = unicodedata.normalize("NFC", INVISIBLE.sub("", typed))
    text = re.sub("[\x85\u2028\u2029]", "\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def visible(s: str) -> str:
    """What a reader sees of a text, for comparing a rendering with what was typed: no white
    space at all (a layout wraps lines where it likes), NFC."""
    return "".join(unicodedata.normalize("NFC", s).split())


@dataclass
class Page:
    """An HTML page as a browser would read it: its text (entities decoded) and its elements."""

    text: str = ""
    elements: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)

    def injected(self) -> list[str]:
        """Markup that came from what was typed: an element or attribute the attack carries."""
        out = [s for s in self.scripts if "__pwned" in s]
        for tag, attrs in self.elements:
            for k, v in attrs.items():
                # A form field's value holds the text as data (it was escaped into the attribute).
                if k == "value":
                    continue
                if "__pwned" in v or (k in ("href", "src", "action") and v.strip().lower().startswith("javascript:")):
                    out.append(f"<{tag} {k}={v!r}>")
            if tag in ("svg", "iframe", "object", "embed"):
                out.append(f"<{tag}>")
        return out


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._in_script = False
        self._parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.elements.append((tag, {k: v or "" for k, v in attrs}))
        self._in_script = tag == "script"
        # A form field's value is text the reader sees too.
        for k, v in attrs:
            if k == "value" and v:
                self._parts.append(" " + v + " ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.page.scripts.append(data)
        else:
            self._parts.append(data)

    def close(self) -> None:
        super().close()
        self.page.text = "".join(self._parts)


def read_page(source: str) -> Page:
    reader = _Reader()
    reader.feed(source)
    reader.close()
    return reader.page
