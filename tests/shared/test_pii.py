from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag

from shared.config import CommonSettings
from shared.pii import InvalidPersonalData, PiiCipher, mask, mask_text, normalize_id_number, normalize_phone


def _cipher(active: str = "a", **extra: bytes) -> PiiCipher:
    keys = {"a": b"A" * 32, "b": b"B" * 32, **extra}
    return PiiCipher(active, keys, b"H" * 32)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("080888999", "080888999"),
        ("0012 0300 4567", "001203004567"),
        ("001.203.004.567", "001203004567"),
    ],
)
def test_id_numbers_are_normalised(raw: str, expected: str) -> None:
    assert normalize_id_number(raw) == expected


@pytest.mark.parametrize("raw", ["12345678", "1234567890", "12345678901", "abcdefghi", "", "１２３４５６７８９"])
def test_bad_id_numbers_are_refused_without_echoing_digits(raw: str) -> None:
    with pytest.raises(InvalidPersonalData) as e:
        normalize_id_number(raw)
    digits = "".join(ch for ch in raw if ch.isdigit())
    assert not digits or digits not in str(e.value)
    assert "CMND/CCCD" in str(e.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912345678", "0912345678"),
        ("0912.820.510", "0912820510"),
        ("+84 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0915 868 186", "0915868186"),
    ],
)
def test_phones_are_normalised(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["091234567", "1912345678", "0012345678", "+1 415 555 0100", "phone"])
def test_bad_phones_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPersonalData) as e:
        normalize_phone(raw)
    assert not any(ch.isdigit() for ch in str(e.value))


def test_mask_keeps_last_three() -> None:
    assert mask("001203004567") == "*********567"
    assert mask("0912345678") == "*******678"
    assert mask("12") == "**"
    assert mask(None) == ""


def test_encrypt_roundtrip_and_ciphertexts_differ() -> None:
    c = _cipher()
    a, b = c.encrypt("001203004567"), c.encrypt("001203004567")
    assert a != b  # a fresh nonce each time: equal values are not visible as equal ciphertexts
    assert b"001203004567" not in a
    assert c.decrypt(a) == c.decrypt(b) == "001203004567"


def test_ciphertext_is_bound_to_its_field() -> None:
    c = _cipher()
    sealed = c.seal("0912345678", kind="phone")
    assert c.open(sealed.ciphertext, kind="phone") == "0912345678"
    with pytest.raises(InvalidTag):
        c.open(sealed.ciphertext, kind="id_number")


def test_tampering_is_detected() -> None:
    c = _cipher()
    blob = bytearray(c.encrypt("080888999"))
    blob[-1] ^= 1
    with pytest.raises(InvalidTag):
        c.decrypt(bytes(blob))


def test_key_rotation_old_values_still_open() -> None:
    old = _cipher("a")
    new = _cipher("b")
    blob = old.encrypt("080888999")
    assert new.decrypt(blob) == "080888999"
    assert new.encrypt("x")[2:3] == b"b"


def test_keyed_hash_finds_the_same_person_across_formats() -> None:
    c = _cipher()
    assert c.digest(normalize_phone("0912.345.678"), kind="phone") == c.digest(
        normalize_phone("+84912345678"), kind="phone"
    )
    assert c.digest("080888999", kind="phone") != c.digest("080888999", kind="id_number")
    other = PiiCipher("a", {"a": b"A" * 32}, b"X" * 32)
    assert other.digest("0912345678", kind="phone") != c.digest("0912345678", kind="phone")


def test_keys_come_from_settings() -> None:
    k = base64.b64encode(os.urandom(32)).decode()
    s = CommonSettings(pii_encryption_keys=f"k9:{k}", pii_hash_key=base64.b64encode(os.urandom(32)).decode())
    c = PiiCipher.from_settings(s)
    assert c.decrypt(c.encrypt("x")) == "x"
    with pytest.raises(ValueError, match="PII_ENCRYPTION_KEYS"):
        CommonSettings(pii_encryption_keys="").pii_keyring()
    with pytest.raises(ValueError, match="32 byte"):
        CommonSettings(
            pii_encryption_keys="k:" + base64.b64encode(b"short").decode(),
            pii_hash_key=base64.b64encode(os.urandom(32)).decode(),
        ).pii_keyring()


@pytest.mark.parametrize(
    "text",
    [
        "CCCD 001203004567 của người nộp",
        "gọi 0912.345.678 hoặc +84 912 345 678",
        "cmnd=080888999;",
        "phone 0912 345 678 end",
    ],
)
def test_mask_text_hides_every_id_or_phone(text: str) -> None:
    out = mask_text(text)
    for secret in ("001203004567", "0912345678", "912345678", "080888999", "0912.345.678", "0912 345 678"):
        assert secret not in out
    assert out.count("*") >= 6


def test_mask_text_leaves_ordinary_numbers() -> None:
    assert mask_text("năm 2021, 1000 ký tự, 241802 sáng kiến") == "năm 2021, 1000 ký tự, 241802 sáng kiến"
