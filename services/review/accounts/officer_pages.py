"""The administrators' accounts pages (“Cán bộ”, /console/can-bo): the officers of my unit and
below, create one (the temporary password shown once, on that answer only), lock and unlock,
reset a password. The same service functions as the JSON API (service.py decides who may do
what: quản trị only, within their reach; anything else of theirs is 404). Every form carries
the session's CSRF token. A password is shown in the answer to the POST, never in a URL."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from services.review.accounts import service
from services.review.accounts.deps import PageOfficer, PageSession
from services.review.accounts.models import ROLE_LABELS, Role
from services.review.accounts.principal import Officer
from services.review.accounts.schemas import OfficerCreate, OfficerOut, PasswordReset
from services.review.accounts.templating import render
from shared.errors import DomainError

router = APIRouter(prefix="/console", include_in_schema=False)
PATH = "/console/can-bo"
NOTICES = {"khoa": "Đã khoá tài khoản.", "mo-khoa": "Đã mở lại tài khoản."}
# What a refused field means, in the administrator's words (pydantic's own are English).
FIELD_MESSAGES = {
    "username": "Tên đăng nhập: 3–40 ký tự gồm chữ thường không dấu, chữ số, dấu chấm, gạch ngang, gạch dưới",
    "full_name": "Họ và tên cần từ 2 đến 200 ký tự",
    "email": "Thư điện tử không hợp lệ",
    "role": "Vui lòng chọn vai trò",
    "unit_id": "Vui lòng chọn đơn vị",
}
Field = Annotated[str, Form(max_length=300)]


def _problem(request: Request, officer: Officer, exc: DomainError) -> Response:
    return render(
        request,
        "console/thong_bao.html",
        officer=officer,
        status=exc.status_code,
        title="Không thực hiện được",
        message=exc.message,
        back_href=PATH,
        back_label="Quay lại danh sách cán bộ",
    )


def page_response(
    request: Request,
    officer: Officer,
    session: Session,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    shown_password: tuple[OfficerOut, str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    try:
        officers = service.list_officers(session, officer)
        units = service.reachable_units(session, officer)
    except DomainError as exc:
        return _problem(request, officer, exc)
    return render(
        request,
        "console/can_bo.html",
        officer=officer,
        current="can-bo",
        title="Cán bộ",
        status=status,
        officers=officers,
        units=units,
        roles=[(r.value, ROLE_LABELS[r]) for r in Role],
        error=error,
        notice=notice,
        shown=shown_password,
        form=form or {},
    )


@router.get("/can-bo")
def officers_page(request: Request, officer: PageOfficer, session: PageSession, tb: str = "") -> Response:
    return page_response(request, officer, session, notice=NOTICES.get(tb[:20]))


@router.post("/can-bo")
def create_form(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    ten_dang_nhap: Field = "",
    ho_ten: Field = "",
    thu_dien_tu: Field = "",
    vai_tro: Field = "",
    don_vi: Field = "",
) -> Response:
    form = {
        "ten_dang_nhap": ten_dang_nhap,
        "ho_ten": ho_ten,
        "thu_dien_tu": thu_dien_tu,
        "vai_tro": vai_tro,
        "don_vi": don_vi,
    }
    try:
        data = OfficerCreate.model_validate(
            {
                "username": ten_dang_nhap.strip().lower(),
                "full_name": ho_ten,
                "email": thu_dien_tu.strip() or None,
                "role": vai_tro,
                "unit_id": don_vi.strip() if don_vi.strip().isdigit() else None,
            }
        )
    except ValidationError as exc:
        first = str(exc.errors()[0]["loc"][0])
        return page_response(
            request, officer, session, status=422, error=FIELD_MESSAGES.get(first, "Dữ liệu không hợp lệ"), form=form
        )
    try:
        created = service.create_officer(session, officer, data)
    except DomainError as exc:
        session.rollback()
        if exc.status_code in (409, 422):
            return page_response(request, officer, session, status=exc.status_code, error=exc.message, form=form)
        return _problem(request, officer, exc)
    shown = (created.officer, created.temporary_password) if created.temporary_password else None
    return page_response(request, officer, session, notice="Đã tạo tài khoản cán bộ.", shown_password=shown)


def _set_active(request: Request, officer: Officer, session: Session, officer_id: str, active: bool) -> Response:
    try:
        service.set_active(session, officer, _id(officer_id), active=active)
    except DomainError as exc:
        session.rollback()
        if exc.status_code == 409:
            return page_response(request, officer, session, status=409, error=exc.message)
        return _problem(request, officer, exc)
    return RedirectResponse(f"{PATH}?tb={'mo-khoa' if active else 'khoa'}", 303)


def _id(raw: str) -> int:
    # Not a number: the same “not found” as another unit's officer.
    return int(raw) if raw.isdigit() and len(raw) < 19 else 0


@router.post("/can-bo/{officer_id}/khoa")
def deactivate_form(request: Request, officer: PageOfficer, session: PageSession, officer_id: str) -> Response:
    return _set_active(request, officer, session, officer_id, False)


@router.post("/can-bo/{officer_id}/mo-khoa")
def activate_form(request: Request, officer: PageOfficer, session: PageSession, officer_id: str) -> Response:
    return _set_active(request, officer, session, officer_id, True)


@router.post("/can-bo/{officer_id}/dat-lai-mat-khau")
def reset_form(request: Request, officer: PageOfficer, session: PageSession, officer_id: str) -> Response:
    try:
        out = service.reset_password(session, officer, _id(officer_id), PasswordReset())
    except DomainError as exc:
        session.rollback()
        return _problem(request, officer, exc)
    assert out.temporary_password is not None  # no password given: the service generates one
    return page_response(
        request, officer, session, notice="Đã đặt lại mật khẩu.", shown_password=(out.officer, out.temporary_password)
    )
