"""Personal data: CMND/CCCD numbers and phone numbers.

Stored encrypted (AES-256-GCM, key from settings) with a keyed hash beside each for look-ups and
duplicate detection; displayed masked to the last three digits. Normalisation lives here too so
that the hash of "0912 345 678" equals that of "+84912345678".
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_FORMAT_VERSION = 1
_NONCE_LEN = 12

_SEPARATORS = re.compile(r"[\s.\-()]")

# The kinds (associated data and hash domain) the two values are sealed under: whoever reads them
# back (review's ingester, console, workflow) must open them under the same.
ID_NUMBER = "id_number"
PHONE = "phone"


class InvalidPersonalData(ValueError):
    """A value that is not an ID number or phone. The message never repeats the digits."""


def normalize_id_number(raw: str) -> str:
    """CMND has 9 digits, CCCD 12; spaces and dots typed by people are tolerated."""
    digits = _SEPARATORS.sub("", raw or "")
    if not digits.isdigit() or not digits.isascii() or len(digits) not in (9, 12):
        raise InvalidPersonalData("Số CMND/CCCD phải gồm 9 hoặc 12 chữ số")
    return digits


def normalize_phone(raw: str) -> str:
    """A Vietnamese number to its national form 0XXXXXXXXX (10 digits; 11 for old landlines)."""
    s = _SEPARATORS.sub("", raw or "")
    if s.startswith("+84"):
        s = "0" + s[3:]
    elif s.startswith("84") and len(s) in (11, 12):
        s = "0" + s[2:]
    if not s.isdigit() or not s.isascii() or not s.startswith("0") or len(s) not in (10, 11) or s[1] == "0":
        raise InvalidPersonalData("Số điện thoại không đúng định dạng số điện thoại Việt Nam")
    return s


def mask(value: str | None, keep: int = 3) -> str:
    """Show only the last ``keep`` characters: '001203004567' → '*********567'."""
    if not value:
        return ""
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


class HmacSha256:
    """HMAC-SHA256 under one key (RFC 2104), for many messages: the key's inner and outer SHA-256
    states are computed once and copied for each message. ``hmac.digest`` derives them again on
    every call and, under OpenSSL 3, looks the MAC up as well: about three times the cost of a
    short message's hash, on every submission. Same output as ``hmac.digest(key, data, "sha256")``
    (tests/intake/test_hot_path.py)."""

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:  # the block size: a longer key is hashed first
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(key.translate(_IPAD))
        self._outer = hashlib.sha256(key.translate(_OPAD))

    def __call__(self, data: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


@dataclass(frozen=True)
class SealedValue:
    ciphertext: bytes
    digest: bytes


class PiiCipher:
    """AES-GCM with a key ring: the first key encrypts, every key decrypts (rotation)."""

    def __init__(self, active_key_id: str, keys: dict[str, bytes], hash_key: bytes) -> None:
        if active_key_id not in keys:
            raise ValueError("active PII key id is not in the key ring")
        if any(len(k) != 32 for k in keys.values()):
            raise ValueError("PII keys must be 32 bytes")
        kid = active_key_id.encode()
        if len(kid) > 255:
            raise ValueError("PII key id too long")
        self._active = active_key_id
        self._aead = {k: AESGCM(v) for k, v in keys.items()}
        self._mac = HmacSha256(hash_key)
        self._active_aead = self._aead[active_key_id]
        self._header = bytes([_FORMAT_VERSION, len(kid)]) + kid  # what every new ciphertext starts with

    @classmethod
    def from_settings(cls, settings: object) -> PiiCipher:
        active, keys, hash_key = settings.pii_keyring()  # type: ignore[attr-defined]  # any CommonSettings
        return cls(active, keys, hash_key)

    def encrypt(self, plaintext: str, *, context: bytes = b"") -> bytes:
        """version(1) | len(kid)(1) | kid | nonce(12) | ciphertext+tag. ``context`` binds the
        ciphertext to its column (associated data), so a value cannot be swapped between fields."""
        nonce = os.urandom(_NONCE_LEN)
        return self._header + nonce + self._active_aead.encrypt(nonce, plaintext.encode(), context)

    def decrypt(self, blob: bytes, *, context: bytes = b"") -> str:
        if not blob or blob[0] != _FORMAT_VERSION:
            raise ValueError("unknown PII ciphertext format")
        klen = blob[1]
        kid = blob[2 : 2 + klen].decode()
        nonce = blob[2 + klen : 2 + klen + _NONCE_LEN]
        body = blob[2 + klen + _NONCE_LEN :]
        return self._aead[kid].decrypt(nonce, body, context).decode()

    def digest(self, normalized: str, *, kind: str) -> bytes:
        """Keyed hash for equality look-ups; ``kind`` keeps an ID number and a phone apart."""
        return self._mac(f"{kind}:{normalized}".encode())

    def seal(self, normalized: str, *, kind: str) -> SealedValue:
        return SealedValue(self.encrypt(normalized, context=kind.encode()), self.digest(normalized, kind=kind))

    def seal_identity(self, id_number: str, phone: str) -> tuple[SealedValue, SealedValue]:
        """A person's normalised ID number and phone, each sealed under its own kind: the same for
        every way a submission comes in (intake's form, review's paper import and demo data)."""
        return self.seal(id_number, kind=ID_NUMBER), self.seal(phone, kind=PHONE)

    def open(self, sealed: bytes, *, kind: str) -> str:
        return self.decrypt(sealed, context=kind.encode())


# --- masking free text (logs, error messages) -------------------------------------------------

# A run of 9 to 12 digits, possibly split by spaces, dots or dashes as people type phones
# ("0912.345.678", "0912 345 678") and possibly prefixed by +84. Long runs such as timestamps in
# milliseconds (13 digits) are left alone; ids of our own are hex or short.
_DIGIT_RUN = re.compile(r"(?<![\w])(?:\+84[\s.\-]?)?\d(?:[\s.\-]?\d){8,11}(?![\w])")


def mask_text(text: str) -> str:
    """Mask every ID-number- or phone-shaped run in ``text`` to its last 3 digits."""

    def _sub(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return mask(digits)

    return _DIGIT_RUN.sub(_sub, text)
