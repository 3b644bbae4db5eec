"""Request-scoped resources of reporting's API: who asks (a signed service token from review,
on behalf of an officer) and the session of their tenant."""

from __future__ import annotations

from fastapi import Request

from shared.contracts.dossier import REPORTING_AUDIENCE
from shared.servicetoken import Claims, bearer, verify


def caller(request: Request) -> Claims:
    return verify(request.app.state.token_key, bearer(request.headers.get("authorization")), aud=REPORTING_AUDIENCE)
