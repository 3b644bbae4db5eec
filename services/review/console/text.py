"""Text helpers of the console, pure functions: the diacritic fold (the same as the database's
``review.fold``) and MinHash signatures of descriptions for near-duplicate detection."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

# NFD splits "ễ" into "e" and its marks, but đ/Đ are letters of their own, not d with a mark.
_LETTERS = str.maketrans({"đ": "d", "Đ": "D"})
_WORD = re.compile(r"[0-9a-z]+")


def fold(value: str) -> str:
    """Lower case without diacritics: 'Nguyễn Văn Đức' → 'nguyen van duc'."""
    decomposed = unicodedata.normalize("NFD", value.translate(_LETTERS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def words(value: str) -> list[str]:
    return _WORD.findall(fold(value))


# --- MinHash ------------------------------------------------------------------------------------
#
# A description becomes its set of word 3-shingles (folded: a copy retyped without accents or
# with other spacing is the same set). PERMUTATIONS min-hashes estimate the Jaccard similarity of
# two sets; BANDS bands of ROWS values each are the locality-sensitive keys the database indexes:
# two descriptions share a band with probability 1 - (1 - J^ROWS)^BANDS — 0.99 at J = 0.8, 0.67
# at J = 0.6, 0.04 at J = 0.3 — and candidates are then checked against the estimate.

PERMUTATIONS = 32
ROWS = 4
BANDS = PERMUTATIONS // ROWS
SHINGLE = 3
MIN_WORDS = 6  # shorter texts say too little to call two of them "the same idea"
NEAR_DUPLICATE = 0.6  # estimated Jaccard from which two descriptions are flagged

_PRIME = (1 << 61) - 1
_MAX = (1 << 32) - 1
_SEEDS = [
    (int.from_bytes(hashlib.sha256(f"a{i}".encode()).digest()[:8]) % (_PRIME - 1) + 1,
     int.from_bytes(hashlib.sha256(f"b{i}".encode()).digest()[:8]) % _PRIME)
    for i in range(PERMUTATIONS)
]  # fmt: skip


@dataclass(frozen=True)
class Signature:
    minhash: list[int]
    bands: list[int]


def _shingles(text: str) -> set[int]:
    w = words(text)
    grams = {" ".join(w[i : i + SHINGLE]) for i in range(max(1, len(w) - SHINGLE + 1))}
    return {int.from_bytes(hashlib.blake2b(g.encode(), digest_size=4).digest()) for g in grams}


def signature(text: str) -> Signature | None:
    """The MinHash and band keys of a description; None when it is too short to compare."""
    if len(words(text)) < MIN_WORDS:
        return None
    hs = _shingles(text)
    mins = [min((a * h + b) % _PRIME for h in hs) & _MAX for a, b in _SEEDS]
    bands = []
    for i in range(BANDS):
        chunk = ",".join(map(str, (i, *mins[i * ROWS : (i + 1) * ROWS]))).encode()
        bands.append(int.from_bytes(hashlib.blake2b(chunk, digest_size=8).digest(), signed=True))
    return Signature(mins, bands)


def similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity of two MinHash vectors."""
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
