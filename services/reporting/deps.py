"""Request-scoped resources of reporting's API: who asks (a signed service token from review,
on behalf of an officer) and the session of their tenant."""

from __future__ import annotations

from fastapi import Request

from shared.contracts.dossier import REPORTING_AUDIENCE
from shared.servicetoken import Claims, verify


def caller(request: Request) -> Claims:
    given = request.headers.get("authorization", "")
    token = given[7:] if given[:7].lower() == "bearer " else None
    return verify(request.app.state.token_key, token, aud=REPORTING_AUDIENCE)
