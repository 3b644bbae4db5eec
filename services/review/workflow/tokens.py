"""The employer's confirmation link: ``<tenant>.<confirmation id>.<expiry epoch>.<signature>``,
the signature an HMAC-SHA256 over the first three parts with the platform's key. The token
names its tenant (signed), so the public page can open the row under that tenant's row-level
security without any officer signed in; the row's ``consumed_at`` makes it one-use."""

from __future__ import annotations

import base64
import datetime as dt
import hmac
from dataclasses import dataclass

_DOMAIN = b"sangkien:xac-nhan:v1:"


@dataclass(frozen=True)
class Claims:
    tenant_id: int
    confirmation_id: int
    expires_at: dt.datetime


class BadToken(ValueError):
    """Not a token we signed (or altered)."""


def derive_key(secret: bytes) -> bytes:
    """A key for confirmation links only, derived from a platform secret (domain separation)."""
    return hmac.digest(secret, _DOMAIN + b"key", "sha256")


def _sign(key: bytes, body: str) -> str:
    mac = hmac.digest(key, _DOMAIN + body.encode(), "sha256")
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def issue(key: bytes, claims: Claims) -> str:
    body = f"{claims.tenant_id}.{claims.confirmation_id}.{int(claims.expires_at.timestamp())}"
    return f"{body}.{_sign(key, body)}"


def read(key: bytes, token: str) -> Claims:
    """The claims of a token we signed; expiry is the caller's to check (it needs the clock)."""
    parts = (token or "").strip().split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts[:3]):
        raise BadToken("đường dẫn không đúng")
    body = ".".join(parts[:3])
    if not hmac.compare_digest(_sign(key, body).encode(), parts[3].encode()):
        raise BadToken("đường dẫn không đúng")
    return Claims(int(parts[0]), int(parts[1]), dt.datetime.fromtimestamp(int(parts[2]), dt.UTC))
