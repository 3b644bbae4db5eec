"""Public reference data of the review service: tenants, campaigns, and each tenant's units."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from sqlalchemy.orm import Session

from services.review import deadletters, directory
from services.review.deps import public_session, require_admin
from services.review.schemas import (
    CampaignOut,
    DeadLetterOut,
    DeadLettersOut,
    ReplayOut,
    TenantOut,
    TrackingOut,
    UnitTreeOut,
)
from services.review.tracking import lookup
from shared.apierrors import error_responses

router = APIRouter(prefix="/api/v1")
SessionDep = Annotated[Session, Depends(public_session, scope="function")]  # commit before the answer


@router.get("/tenants", response_model=list[TenantOut])
def tenants(session: SessionDep) -> list[TenantOut]:
    return directory.tenants(session)


@router.get("/campaigns", response_model=list[CampaignOut])
def campaigns(session: SessionDep) -> list[CampaignOut]:
    return directory.campaigns(session)


@router.get("/tenants/{code}/units", response_model=UnitTreeOut, responses=error_responses(404))
def units(
    request: Request,
    code: str,
    session: SessionDep,
    tree: Annotated[str, Query(max_length=32)] = "2021",
    unit: Annotated[str | None, Query(max_length=64)] = None,
) -> UnitTreeOut:
    return directory.unit_children(request.app.state.sessions, session, code, tree, unit)


@router.get(
    "/tracking/{tracking_code}",
    response_model=TrackingOut,
    responses=error_responses(404),
    summary="Theo dõi kết quả (intake hỏi)",
)
def tracking(
    request: Request, tracking_code: str, x_phone_digest: Annotated[str, Header(max_length=64)]
) -> TrackingOut:
    return lookup(request.app.state.sessions, tracking_code, x_phone_digest)


AdminDep = Annotated[None, Depends(require_admin)]


@router.get(
    "/admin/dead-letters",
    response_model=DeadLettersOut,
    responses=error_responses(401),
    summary="Tin lỗi của luồng tiếp nhận",
)
def dead_letters(request: Request, _: AdminDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> DeadLettersOut:
    client = request.app.state.redis_sync
    items = [DeadLetterOut(**d.__dict__) for d in deadletters.list_letters(client, count=limit)]
    return DeadLettersOut(total=deadletters.count_letters(client), items=items)


@router.post(
    "/admin/dead-letters/{letter_id}/replay",
    response_model=ReplayOut,
    responses=error_responses(401, 404),
    summary="Gửi lại một tin lỗi",
)
def replay_dead_letter(request: Request, _: AdminDep, letter_id: Annotated[str, Path(max_length=40)]) -> ReplayOut:
    new_id = deadletters.replay(request.app.state.redis_sync, request.app.state.settings, letter_id)
    return ReplayOut(id=letter_id, requeued_as=new_id)
