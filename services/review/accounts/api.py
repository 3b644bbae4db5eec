"""JSON API of the officers' accounts (/api/v1/review/…) and the console's pages. HTTP only:
who may do what is decided in service.py. Every route here acts as a signed-in officer, so
POSTs carry the session's CSRF token in X-CSRF-Token (checked by ``current_officer``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path

from services.review.accounts import officer_pages, pages, service
from services.review.accounts.deps import CurrentOfficer, OfficerSession, require_role
from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.accounts.schemas import (
    MeOut,
    OfficerCreate,
    OfficerCreated,
    OfficerOut,
    PasswordReset,
    PasswordResetOut,
    UnitOut,
)
from shared.apierrors import error_responses

# Every route acts as a signed-in officer (401 without one, 403 without the CSRF token or the
# role); the accounts are those of the officer's units (404 for any other), names unique (409).
api = APIRouter(prefix="/api/v1/review", tags=["cán bộ"], responses=error_responses(401, 403, 404, 409))
Admin = Annotated[Officer, Depends(require_role(Role.quan_tri))]
OfficerId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@api.get("/me", response_model=MeOut, summary="Cán bộ đang đăng nhập")
def me(officer: CurrentOfficer) -> MeOut:
    return MeOut(
        id=officer.id,
        login_name=officer.login_name,
        full_name=officer.name,
        role=officer.role,
        role_label=officer.role_label,
        unit_id=officer.unit_id,
        unit_name=officer.unit_name,
        tenant_code=officer.tenant_code,
    )


@api.get("/units", response_model=list[UnitOut], summary="Đơn vị của tôi và các đơn vị trực thuộc")
def units(officer: CurrentOfficer, session: OfficerSession) -> list[UnitOut]:
    return service.reachable_units(session, officer)


@api.get("/officers", response_model=list[OfficerOut], summary="Cán bộ của các đơn vị tôi quản lý")
def list_officers(officer: Admin, session: OfficerSession) -> list[OfficerOut]:
    return service.list_officers(session, officer)


@api.post("/officers", response_model=OfficerCreated, status_code=201, summary="Tạo tài khoản cán bộ")
def create_officer(officer: Admin, session: OfficerSession, body: OfficerCreate) -> OfficerCreated:
    return service.create_officer(session, officer, body)


@api.get("/officers/{officer_id}", response_model=OfficerOut, summary="Một tài khoản cán bộ")
def get_officer(officer: Admin, session: OfficerSession, officer_id: OfficerId) -> OfficerOut:
    return service.get_officer(session, officer, officer_id)


@api.post("/officers/{officer_id}/deactivate", response_model=OfficerOut, summary="Khoá tài khoản")
def deactivate(officer: Admin, session: OfficerSession, officer_id: OfficerId) -> OfficerOut:
    return service.set_active(session, officer, officer_id, active=False)


@api.post("/officers/{officer_id}/activate", response_model=OfficerOut, summary="Mở lại tài khoản")
def activate(officer: Admin, session: OfficerSession, officer_id: OfficerId) -> OfficerOut:
    return service.set_active(session, officer, officer_id, active=True)


@api.post("/officers/{officer_id}/password-reset", response_model=PasswordResetOut, summary="Đặt lại mật khẩu cán bộ")
def reset_password(
    officer: Admin,
    session: OfficerSession,
    officer_id: OfficerId,
    body: Annotated[PasswordReset | None, Body()] = None,
) -> PasswordResetOut:
    return service.reset_password(session, officer, officer_id, body or PasswordReset())


router = APIRouter()
router.include_router(api)
router.include_router(pages.router)
router.include_router(officer_pages.router)
