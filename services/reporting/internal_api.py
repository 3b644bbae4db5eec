"""Reporting's API for the platform's other services, not for officers: review's retention job
deletes a campaign's dossiers (shared/contracts/retention.py). The caller holds a
shared.servicetoken for audience "reporting" with the platform's service role, signed for one
tenant; the session is opened under that tenant, so row-level security binds the deletion to
it. An officer's token, valid for the dossier API, is refused here with the same 401 as none."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from services.reporting import service
from services.reporting.deps import caller
from shared.apierrors import error_responses
from shared.contracts.obligations import SYSTEM_ROLE
from shared.contracts.retention import PurgeOut
from shared.db import tenant_session
from shared.errors import Unauthorized
from shared.servicetoken import REFUSED, Claims

router = APIRouter(prefix="/api/v1/internal", tags=["nội bộ"], responses=error_responses(401))


def system_caller(claims: Annotated[Claims, Depends(caller)]) -> Claims:
    if claims.role != SYSTEM_ROLE:
        raise Unauthorized(REFUSED)
    return claims


@router.post("/campaigns/{campaign}/purge", response_model=PurgeOut, summary="Xoá hồ sơ của chương trình hết hạn lưu")
def purge_campaign(
    request: Request,
    claims: Annotated[Claims, Depends(system_caller)],
    campaign: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")],
) -> PurgeOut:
    s = request.app.state.settings
    with tenant_session(request.app.state.sessions, claims.tenant_id) as session:
        return service.purge_campaign(session, request.app.state.storage, s.bucket, claims.tenant_id, campaign)
