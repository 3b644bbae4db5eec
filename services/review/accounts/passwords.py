"""Password hashing: Argon2id (argon2-cffi's RFC 9106 low-memory profile: 64 MiB, 3 passes).

A sign-in for a login name that does not exist still verifies against a hash, so the answer
takes as long as for a wrong password and the timing does not tell which names exist."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

_hasher = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)

MIN_LENGTH = 10
MAX_LENGTH = 256  # hashing is costly by design: a megabyte "password" must not be

# Hashed once at import, verified when no officer matches (a constant cost).
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; ``None`` (no such officer) costs the same and is False."""
    try:
        ok = _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError, ValueError):  # ValueError: a hash that is not ASCII
        return False
    return ok and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    """After the parameters are raised, a successful sign-in re-hashes with the new ones."""
    return _hasher.check_needs_rehash(password_hash)


def temporary_password() -> str:
    """16 URL-safe characters (96 bits), given to an officer once by the administrator."""
    return secrets.token_urlsafe(12)
