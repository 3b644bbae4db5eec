"""The tokens review signs for reporting on behalf of an officer (shared/servicetoken.py)."""

from __future__ import annotations

import time

import pytest

from shared.errors import Unauthorized
from shared.servicetoken import derive_key, issue, verify

KEY = derive_key(b"k" * 32)


def _token(**over: object) -> str:
    args: dict[str, object] = {
        "tenant_id": 38,
        "officer_id": 5,
        "unit_code": "H380",
        "role": "chu_tich",
        "aud": "reporting",
        "ttl": 60,
    }
    args.update(over)
    return issue(KEY, **args)  # type: ignore[arg-type]  # the test's overrides keep the types


def test_a_valid_token_gives_its_claims() -> None:
    claims = verify(KEY, _token(), aud="reporting")
    assert (claims.tenant_id, claims.officer_id, claims.role) == (38, 5, "chu_tich")


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "v1.abc",
        "v2.e30.e30",
        "v1.!!!.???",
    ],
)
def test_malformed_tokens_are_refused(token: str | None) -> None:
    with pytest.raises(Unauthorized):
        verify(KEY, token, aud="reporting")


def test_another_key_another_audience_or_expired_is_refused() -> None:
    with pytest.raises(Unauthorized):
        verify(derive_key(b"x" * 32), _token(), aud="reporting")
    with pytest.raises(Unauthorized):
        verify(KEY, _token(aud="notify"), aud="reporting")
    with pytest.raises(Unauthorized):
        verify(KEY, _token(ttl=60), aud="reporting", now=time.time() + 61)


def test_a_changed_tenant_breaks_the_signature() -> None:
    import base64
    import json

    version, body, sig = _token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["tenant_id"] = 4
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthorized):
        verify(KEY, f"{version}.{forged}.{sig}", aud="reporting")
