"""Review's API for the platform's other services, not for officers or the public: the caller
holds a shared.servicetoken for audience "review" with the platform's service role, signed for
one tenant, and everything it reads is that tenant's (the session is opened under the token's
tenant, so row-level security binds it). An officer's token — for reporting, or for review with
an officer's role — is refused with the same 401 as no token at all."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from services.review.config import ReviewSettings
from services.review.workflow import obligations as obligations_service
from shared.apierrors import error_responses
from shared.contracts.obligations import REVIEW_AUDIENCE, SYSTEM_ROLE, ObligationsOut
from shared.db import tenant_session
from shared.errors import Unauthorized
from shared.servicetoken import REFUSED, Claims, bearer, verify

router = APIRouter(prefix="/api/v1/internal", tags=["nội bộ"], responses=error_responses(401))


def system_caller(request: Request) -> Claims:
    """The claims of a valid token for review with the platform's service role; 401 otherwise,
    with the message of every other refusal (the caller learns nothing about which check)."""
    settings: ReviewSettings = request.app.state.settings
    claims = verify(settings.service_token_key(), bearer(request.headers.get("authorization")), aud=REVIEW_AUDIENCE)
    if claims.role != SYSTEM_ROLE:
        raise Unauthorized(REFUSED)
    return claims


SystemCaller = Annotated[Claims, Depends(system_caller)]
Instant = Annotated[str | None, Query(description="thời điểm ISO 8601 có múi giờ, ví dụ 2021-04-16T00:00:00+07:00")]


@router.get("/obligations", response_model=ObligationsOut, summary="Đơn vị phải giới thiệu sáng kiến theo thời hạn")
def obligations(
    request: Request, claims: SystemCaller, due_from: Instant = None, due_to: Instant = None
) -> ObligationsOut:
    # The parameters are parsed by the service, not by FastAPI, so a bad one is the project's
    # 422 with a Vietnamese message naming it; and only after the token, so a caller without
    # one learns nothing.
    start, end = obligations_service.parse_window(due_from, due_to)
    with tenant_session(request.app.state.sessions, claims.tenant_id) as s:
        return obligations_service.obligations(s, claims.tenant_id, start, end)
