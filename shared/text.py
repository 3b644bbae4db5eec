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
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
    return "\n".join([line.rstrip() for line in v.split("\n")]).strip()
