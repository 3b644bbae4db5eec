"""The Tổng Liên đoàn's inbox (“Đề nghị toàn quốc”) and its decision on each initiative: biểu
dương (a note optional) or không chọn (a reason required). Only officers of tenant 999 have the
page; only its chủ tịch and quản trị decide (the workflow's rules, messages and audit log)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from services.review.accounts.deps import PageOfficer, PageSession
from services.review.accounts.principal import Officer
from services.review.accounts.templating import render
from services.review.console import configuration
from services.review.console.pages import _problem
from services.review.workflow import nominations
from shared.errors import DomainError, InvalidInput, NotFound

router = APIRouter(prefix="/console", include_in_schema=False)
NATIONAL_PATH = "/console/toan-quoc"
MAX_NOTE = 4000
NOTICES = {
    "bieu_duong": "Đã quyết định biểu dương sáng kiến.",
    "khong_chon": "Đã quyết định không chọn sáng kiến; lý do được ghi vào nhật ký.",
}


def national_response(
    request: Request,
    officer: Officer,
    session: Session,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    try:
        rows = configuration.national(session, officer)
    except DomainError as exc:
        return _problem(request, officer, exc, back="/console/")
    return render(
        request,
        "console/toan_quoc.html",
        officer=officer,
        current="toan-quoc",
        title="Đề nghị toàn quốc",
        status=status,
        rows=rows,
        error=error,
        notice=notice,
    )


@router.get("/toan-quoc")
def national_page(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    tb: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return national_response(request, officer, session, notice=NOTICES.get(tb))


@router.post("/toan-quoc/{source_tenant}/{source_submission}/quyet-dinh")
def decide_form(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    source_tenant: str,
    source_submission: str,
    quyet_dinh: Annotated[str, Form(max_length=16)] = "",
    ghi_chu: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    try:
        if not (source_tenant.isdigit() and source_submission.isdigit() and len(source_submission) < 19):
            raise NotFound("Không tìm thấy sáng kiến được đề nghị")
        if len(ghi_chu) > MAX_NOTE:
            raise InvalidInput(f"Lý do, ghi chú dài quá {MAX_NOTE} ký tự", field="note")
        nominations.national_decide(
            session, officer, int(source_tenant[:9]), int(source_submission), quyet_dinh, ghi_chu
        )
    except DomainError as exc:
        session.rollback()
        if exc.status_code not in (409, 422):
            return _problem(request, officer, exc, back=NATIONAL_PATH)
        return national_response(request, officer, session, status=exc.status_code, error=exc.message)
    return RedirectResponse(f"{NATIONAL_PATH}?{urlencode({'tb': quyet_dinh})}", 303)
