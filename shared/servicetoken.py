"""Short-lived signed tokens one service sends another on behalf of a signed-in officer.

Officers sign in on review's console; reporting (dossiers, dashboards) must act for them
within their tenant without sharing review's session store. Review signs what reporting needs
to know — the tenant, the officer, their unit and role — with a platform key both read from
settings, for a minute or two; reporting checks the signature and the expiry and sets the
tenant of its transaction from the token alone, so row-level security binds it to that tenant.

Format: ``v1.<base64url JSON claims>.<base64url HMAC-SHA256>``. No personal data in the
claims (the officer's id, never a name, phone or ID number), since tokens travel in headers
that proxies may log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from shared.errors import Unauthorized

VERSION = "v1"
_DOMAIN = b"sangkien-service-token-v1"
REFUSED = "Yêu cầu không có quyền truy cập hợp lệ"  # one message for every refusal


class Claims(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: int
    officer_id: int
    unit_code: str
    role: str
    aud: str  # the service the token is for: a token for reporting is refused by notify
    exp: int  # seconds since the epoch


def derive_key(secret: bytes) -> bytes:
    """The signing key, domain-separated from whatever else the secret is used for."""
    return hmac.new(secret, _DOMAIN, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(key: bytes, *, tenant_id: int, officer_id: int, unit_code: str, role: str, aud: str, ttl: int = 120) -> str:
    claims = Claims(
        tenant_id=tenant_id, officer_id=officer_id, unit_code=unit_code, role=role, aud=aud, exp=int(time.time()) + ttl
    )
    body = _b64(orjson.dumps(claims.model_dump()))
    sig = _b64(hmac.new(key, f"{VERSION}.{body}".encode(), hashlib.sha256).digest())
    return f"{VERSION}.{body}.{sig}"


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    given = authorization or ""
    return given[7:] if given[:7].lower() == "bearer " else None


def verify(key: bytes, token: str | None, *, aud: str, now: float | None = None) -> Claims:
    """The claims of a valid, unexpired token for ``aud``; Unauthorized otherwise (one message
    for every failure: a caller learns nothing about which check refused it)."""
    refused = Unauthorized(REFUSED)
    if not token:
        raise refused
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != VERSION:
        raise refused
    try:
        expected = hmac.new(key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(parts[2])):
            raise refused
        claims = Claims.model_validate(orjson.loads(_unb64(parts[1])))
    except (ValueError, ValidationError, orjson.JSONDecodeError) as exc:
        raise refused from exc
    if claims.aud != aud or claims.exp < (time.time() if now is None else now):
        raise refused
    return claims
