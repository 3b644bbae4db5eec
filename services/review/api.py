"""Public reference data of the review service: tenants, campaigns, and each tenant's units."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from services.review import directory
from services.review.deps import public_session
from services.review.schemas import CampaignOut, TenantOut, UnitTreeOut

router = APIRouter(prefix="/api/v1")
SessionDep = Annotated[Session, Depends(public_session)]


@router.get("/tenants", response_model=list[TenantOut])
def tenants(session: SessionDep) -> list[TenantOut]:
    return directory.tenants(session)


@router.get("/campaigns", response_model=list[CampaignOut])
def campaigns(session: SessionDep) -> list[CampaignOut]:
    return directory.campaigns(session)


@router.get("/tenants/{code}/units", response_model=UnitTreeOut)
def units(
    request: Request,
    code: str,
    session: SessionDep,
    tree: Annotated[str, Query(max_length=32)] = "2021",
    unit: Annotated[str | None, Query(max_length=64)] = None,
) -> UnitTreeOut:
    return directory.unit_children(request.app.state.sessions, session, code, tree, unit)
