"""Argon2id hashing, and the constant-cost answer for a missing account."""

from __future__ import annotations

from argon2 import extract_parameters
from argon2.low_level import Type

from services.review.accounts.passwords import hash_password, needs_rehash, temporary_password, verify_password


def test_hashes_are_argon2id_with_a_fresh_salt() -> None:
    a, b = hash_password("mật khẩu đủ dài"), hash_password("mật khẩu đủ dài")
    assert a.startswith("$argon2id$") and a != b
    params = extract_parameters(a)
    assert params.type is Type.ID
    assert params.memory_cost >= 19 * 1024 and params.time_cost >= 2  # at least OWASP's minimum
    assert not needs_rehash(a)


def test_verify() -> None:
    h = hash_password("đúng-mật-khẩu")
    assert verify_password(h, "đúng-mật-khẩu")
    assert not verify_password(h, "sai-mật-khẩu")
    assert not verify_password(None, "đúng-mật-khẩu")  # no account: still False, same cost
    assert not verify_password("không phải hash", "x")


def test_temporary_passwords_are_long_and_random() -> None:
    pw = {temporary_password() for _ in range(50)}
    assert len(pw) == 50 and min(map(len, pw)) >= 16
