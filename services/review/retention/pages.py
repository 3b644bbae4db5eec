"""“Lưu trữ dữ liệu cá nhân” (/console/luu-tru, quản trị): each campaign with the date until which
the tenant keeps its submitters' personal data (the default or the administrator's), whether the
retention job has deleted it, and, for the administrators of the tenant's top unit, a form to set
the date. Parsing and rendering only; the rules are service.py's. A refused date shows the page
again with the message (409/422); 403 the message page; a change redirects (303) with a fixed
notice."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from services.review.accounts.deps import PageOfficer, PageSession
from services.review.accounts.principal import Officer
from services.review.accounts.templating import add_templates, render
from services.review.console.pages import _problem
from services.review.retention import service
from shared.errors import DomainError
from shared.timeutil import local, now

add_templates(Path(__file__).parent / "templates")
router = APIRouter(prefix="/console", include_in_schema=False)
PATH = "/console/luu-tru"
NOTICES = {"da-luu": "Đã lưu thời hạn lưu trữ; thay đổi được ghi vào nhật ký."}


def page(
    request: Request,
    officer: Officer,
    session: Session,
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    error_campaign: str = "",
    typed: str = "",
) -> Response:
    try:
        campaigns = service.overview(session, officer)
    except DomainError as exc:
        return _problem(request, officer, exc, back="/console/")
    return render(
        request,
        "console/luu_tru.html",
        officer=officer,
        current="luu-tru",
        title="Lưu trữ dữ liệu cá nhân",
        status=status,
        campaigns=campaigns,
        today=local(now()).date(),
        may_edit=service.may_edit(session, officer),
        months=service.DEFAULT_MONTHS,
        notice=notice,
        error=error,
        error_campaign=error_campaign,
        typed=typed,
    )


@router.get("/luu-tru")
def retention_page(
    request: Request, officer: PageOfficer, session: PageSession, tb: Annotated[str, Query(max_length=16)] = ""
) -> Response:
    return page(request, officer, session, notice=NOTICES.get(tb))


@router.post("/luu-tru/{campaign}")
def set_date(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    campaign: str,
    den_ngay: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        service.set_retention(session, officer, campaign[:64], den_ngay)
    except DomainError as exc:
        session.rollback()
        if exc.status_code in (409, 422):
            return page(
                request,
                officer,
                session,
                status=exc.status_code,
                error=exc.message,
                error_campaign=campaign[:64],
                typed=den_ngay,
            )
        return _problem(request, officer, exc, back=PATH)
    return RedirectResponse(f"{PATH}?tb=da-luu", 303)
