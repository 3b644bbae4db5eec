"""Normalising what people type, the same wherever it is typed: intake's form and review's paper
import (services/review/console/importing.py) store the same text for the same input.

Pure functions on intake's hot path: kept to what is measured fastest there
(tests/intake/test_hot_path.py holds them equal to the plain regular-expression versions).
"""

from __future__ import annotations

import re
import unicodedata

# Control characters other than line breaks and tabs: invisible, and NUL cannot be stored in
# PostgreSQL text at all (the ingester would refuse the entry, an import's INSERT would fail).
# With them the C1 controls (but NEL, a line break), the bidirectional embeddings, overrides,
# isolates and marks (U+202E turns the rest of a name around on an officer's screen), the
# zero-width characters (a name with one inside is not the same name to search and duplicate
# detection, and looks the same; an emoji joined by U+200D shows as its parts) and the two
# non-characters XML cannot hold (the exports).
# Every one of them is non-printable: text without any still takes nfc()'s fast path.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x84\x86-\x9f"
    "\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufffe\uffff]"
)
# Line breaks other than CR and LF: NEL and the Unicode line and paragraph separators.
_OTHER_BREAKS = re.compile("[\x85\u2028\u2029]")


def nfc(s: str) -> str:
    # A printable string has no control character (they are all non-printable): the scan for
    # them is skipped for the common case (the check runs in C, several times faster).
    return unicodedata.normalize("NFC", s if s.isprintable() else _CONTROL.sub("", s))


def one_line(v: str) -> str:
    """One-line fields: NFC, runs of white space folded, trimmed. (``str.split()`` splits on the
    white space ``\\s`` matches and drops it at both ends: ``re.sub(r"\\s+", " ", v).strip()``.)"""
    return " ".join(nfc(v).split())


def multiline(v: str) -> str:
    """Multi-line fields keep their line breaks; NFC so that decomposed Vietnamese (as some
    phone keyboards send it) counts the same as composed."""
    v = nfc(v)
    if "\r" in v:
        v = v.replace("\r\n", "\n").replace("\r", "\n")
    if "\x85" in v or "\u2028" in v or "\u2029" in v:
        v = _OTHER_BREAKS.sub("\n", v)
    return "\n".join([line.rstrip() for line in v.split("\n")]).strip()
