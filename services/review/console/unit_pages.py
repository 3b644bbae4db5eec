"""The units page (quản trị): /console/don-vi lists the officer's unit, then the units below it a
level at a time (?don_vi= goes down to a child's children) or what a search found, each with its
contact address and a form to set or clear it. Parsing and rendering only; the rules are
unit_emails'. A refused address shows the page again with the message beside its field (422);
403 and 404 the message page; a change redirects (303) back to where the form was, with a fixed
notice beside that unit (never the typed text in a URL)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from services.review.accounts.deps import PageOfficer, PageSession
from services.review.accounts.principal import Officer
from services.review.accounts.templating import render
from services.review.console import unit_emails
from services.review.console.pages import _int, _problem
from shared.errors import DomainError

router = APIRouter(prefix="/console", include_in_schema=False)
PATH = "/console/don-vi"
NOTICES: dict[str, str] = {
    unit_emails.Change.saved.value: "Đã lưu địa chỉ email của đơn vị; thay đổi được ghi vào nhật ký.",
    unit_emails.Change.cleared.value: "Đã xoá địa chỉ email của đơn vị; thay đổi được ghi vào nhật ký.",
    unit_emails.Change.unchanged.value: "Địa chỉ email không thay đổi.",
}
UnitQuery = Annotated[str, Query(max_length=20)]
SearchQuery = Annotated[str, Query(max_length=200)]


def _where(unit: str, search: str, page: str) -> dict[str, str]:
    """The view a form came from, as its query: only well-formed values travel on."""
    u, p, q = _int(unit), _int(page), search.strip()[:200]
    return {
        **({"don_vi": str(u)} if u is not None else {}),
        **({"q": q} if q else {}),
        **({"trang": str(p)} if p is not None and p > 1 else {}),
    }


def view_response(
    request: Request,
    officer: Officer,
    session: Session,
    unit_id: int | None,
    where: dict[str, str],
    *,
    status: int = 200,
    notice: str | None = None,
    saved: int | None = None,
    error: str | None = None,
    error_unit: int | None = None,
    typed: str = "",
) -> Response:
    try:
        v = unit_emails.units_view(session, officer, unit_id, where.get("q", ""), _int(where.get("trang")) or 1)
    except DomainError as exc:
        return _problem(request, officer, exc, back=PATH)

    def page_query(n: int) -> str:
        return urlencode({**where, "trang": str(n)})

    return render(
        request,
        "console/don_vi.html",
        officer=officer,
        current="don-vi",
        title="Đơn vị",
        status=status,
        v=v,
        back=where,
        page_query=page_query,
        notice=notice,
        saved=saved,
        error=error,
        error_unit=error_unit,
        typed=typed,
    )


@router.get("/don-vi")
def units_page(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    don_vi: UnitQuery = "",
    q: SearchQuery = "",
    trang: Annotated[str, Query(max_length=6)] = "",
    tb: Annotated[str, Query(max_length=20)] = "",
    dv: UnitQuery = "",
) -> Response:
    unit_id = _int(don_vi)
    if don_vi.strip() and unit_id is None:
        unit_id = 0  # not a number: the same “not found” as a unit of another tenant
    where = _where(don_vi, q, trang)
    return view_response(request, officer, session, unit_id, where, notice=NOTICES.get(tb), saved=_int(dv))


@router.post("/don-vi/{unit_id}/email")
def email_form(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    unit_id: str,
    email: Annotated[str, Form(max_length=1000)] = "",
    hanh_dong: Annotated[str, Form(max_length=10)] = "luu",
    don_vi: Annotated[str, Form(max_length=20)] = "",
    q: Annotated[str, Form(max_length=200)] = "",
    trang: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    where = _where(don_vi, q, trang)
    target = _int(unit_id) or 0  # not a number: “not found”, like a unit of another tenant
    typed = "" if hanh_dong == "xoa" else email  # the “Xoá” button clears whatever is in the field
    try:
        change = unit_emails.set_email(session, officer, target, typed)
    except DomainError as exc:
        session.rollback()
        if exc.status_code != 422:
            return _problem(request, officer, exc, back=PATH)
        return view_response(
            request,
            officer,
            session,
            _int(don_vi),
            where,
            status=422,
            error=exc.message,
            error_unit=target,
            typed=email[:300],
        )
    # The notice shows beside the unit that changed (``dv``), where the anchor scrolls to.
    query = urlencode({**where, "tb": change.value, "dv": str(target)})
    return RedirectResponse(f"{PATH}?{query}#don-vi-{target}", 303)
