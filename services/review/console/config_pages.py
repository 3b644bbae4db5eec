"""The configuration page's edit forms (quản trị): a round's deadline per level, a quota rule's
bounds, the rubric's names and weights. Parsing the form and rendering only; the rules — who,
closed rounds, weights summing to 100, the audit log — are workflow.configure's. A refusal
shows the page again with the Vietnamese message (409/422); 403 and 404 the message page; a
success redirects (303) back with a fixed notice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from services.review.accounts.deps import PageOfficer, PageSession
from services.review.accounts.principal import Officer
from services.review.accounts.templating import render
from services.review.console import configuration
from services.review.console.pages import _problem
from services.review.workflow import configure
from shared.errors import DomainError, InvalidInput
from shared.timeutil import VN_TZ

router = APIRouter(prefix="/console", include_in_schema=False)
CONFIG_PATH = "/console/cau-hinh"
NOTICES = {
    "thoi-han": "Đã lưu thời hạn; thay đổi được ghi vào nhật ký.",
    "so-luong": "Đã lưu số lượng; thay đổi được ghi vào nhật ký.",
    "thang-diem": "Đã lưu thang điểm; thay đổi được ghi vào nhật ký.",
}
Campaign = Annotated[str, Form(max_length=64)]
RoundCode = Annotated[str, Form(max_length=32)]
Id = Annotated[str, Form(max_length=19)]


def _path(campaign: str, notice: str = "") -> str:
    query = urlencode({k: v for k, v in (("chuong_trinh", campaign), ("tb", notice)) if v})
    return CONFIG_PATH + (f"?{query}" if query else "")


def config_response(
    request: Request,
    officer: Officer,
    session: Session,
    campaign: str,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    try:
        c = configuration.configuration(session, officer, campaign or None)
    except DomainError as exc:
        return _problem(request, officer, exc, back="/console/")
    return render(
        request,
        "console/cau_hinh.html",
        officer=officer,
        current="cau-hinh",
        title="Cấu hình",
        status=status,
        c=c,
        error=error,
        notice=notice,
    )


@router.get("/cau-hinh")
def configuration_page(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    chuong_trinh: Annotated[str, Query(max_length=64)] = "",
    tb: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return config_response(request, officer, session, chuong_trinh, notice=NOTICES.get(tb))


def _act(
    request: Request, officer: Officer, session: Session, campaign: str, notice: str, act: Callable[[], object]
) -> Response:
    try:
        act()
    except DomainError as exc:
        session.rollback()
        if exc.status_code not in (409, 422):
            return _problem(request, officer, exc, back=_path(campaign))
        return config_response(request, officer, session, campaign, status=exc.status_code, error=exc.message)
    return RedirectResponse(_path(campaign, notice), 303)


def _id(raw: str, what: str) -> int:
    if not raw.strip().isdigit():
        raise InvalidInput(f"Thiếu mã {what}", field="id")
    return int(raw)


@router.post("/cau-hinh/thoi-han")
def deadline_form(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    chuong_trinh: Campaign = "",
    dot: RoundCode = "",
    ma: Id = "",
    han: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    def act() -> None:
        try:
            # The form's local date and time, in Vietnam's zone (the circulars' dates).
            due = dt.datetime.fromisoformat(han.strip()).replace(tzinfo=VN_TZ)
        except ValueError:
            raise InvalidInput("Thời hạn không hợp lệ: nhập ngày và giờ", field="due_at") from None
        configure.set_deadline(session, officer, chuong_trinh, dot, _id(ma, "thời hạn"), due)

    return _act(request, officer, session, chuong_trinh, "thoi-han", act)


@router.post("/cau-hinh/so-luong")
def quota_form(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    chuong_trinh: Campaign = "",
    dot: RoundCode = "",
    ma: Id = "",
    toi_thieu: Annotated[str, Form(max_length=8)] = "",
    toi_da: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    def act() -> None:
        low = configure.parse_count(toi_thieu, "Số tối thiểu", "min_count")
        high = configure.parse_count(toi_da, "Số tối đa", "max_count")
        configure.set_quota(session, officer, chuong_trinh, dot, _id(ma, "quy định số lượng"), low, high)

    return _act(request, officer, session, chuong_trinh, "so-luong", act)


@router.post("/cau-hinh/thang-diem")
async def rubric_form(request: Request, officer: PageOfficer, session: PageSession) -> Response:
    # The criteria are the campaign's configuration: ten_<code> and trong_so_<code> fields.
    form = await request.form()
    values = {k: v[:300] for k, v in form.items() if isinstance(v, str)}
    campaign = values.get("chuong_trinh", "")[:64]
    codes = [k.removeprefix("trong_so_") for k in values if k.startswith("trong_so_")]

    def act() -> None:
        edits = {
            code: configure.CriterionEdit(code, values.get(f"ten_{code}", ""), values[f"trong_so_{code}"])
            for code in codes[:50]
        }
        configure.set_rubric(session, officer, campaign, edits)

    return await run_in_threadpool(_act, request, officer, session, campaign, "thang-diem", act)
