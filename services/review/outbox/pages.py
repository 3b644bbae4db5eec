"""The console's outbox (“Thư nhắc hạn”): the reminders notify planned for the units in the
administrator's reach, what was sent, what failed and why, each one's text, and “Gửi lại” for a
failed one. The rows are notify's (its API, with a token signed for the officer); this page
shows only the units of the officer's subtree."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.review.accounts.deps import PageOfficer, PageSession
from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.accounts.service import unit_names_in_reach
from services.review.accounts.templating import add_templates, render
from services.review.console.pages import _problem
from services.review.outbox.client import NotifyClient
from services.review.workflow.access import require_role
from shared.contracts.reminders import STATE_LABELS
from shared.errors import DomainError, NotFound

add_templates(Path(__file__).parent / "templates")
router = APIRouter(prefix="/console", include_in_schema=False)
PATH = "/console/thu-nhac"


def _client(request: Request) -> NotifyClient:
    client: NotifyClient = request.app.state.notify_client  # made by the app factory
    return client


def _require_admin(officer: Officer) -> None:
    require_role(officer, (Role.quan_tri,))  # the workflow's 403 and its message


@router.get("/thu-nhac")
def outbox_page(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    trang_thai: Annotated[str, Query(max_length=16)] = "",
    tb: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    try:
        _require_admin(officer)
        box = _client(request).outbox(officer, trang_thai if trang_thai in STATE_LABELS else "")
        reach = unit_names_in_reach(session, officer)
        items = [(i, reach[i.unit_code]) for i in box.items if i.unit_code in reach]
    except DomainError as exc:
        return _problem(request, officer, exc, back="/console/")
    return render(
        request,
        "console/thu_nhac.html",
        officer=officer,
        current="thu-nhac",
        title="Thư nhắc hạn",
        items=items,
        counts=box.counts,
        labels=STATE_LABELS,
        state=trang_thai,
        notice="Đã xếp thư nhắc vào hàng gửi lại." if tb == "gui-lai" else None,
    )


@router.get("/thu-nhac/{reminder_id}")
def reminder_page(request: Request, officer: PageOfficer, session: PageSession, reminder_id: str) -> Response:
    try:
        _require_admin(officer)
        if not reminder_id.isdigit() or len(reminder_id) > 18:
            raise NotFound("Không tìm thấy thư nhắc")
        r = _client(request).one(officer, int(reminder_id))
        if r.unit_code not in unit_names_in_reach(session, officer):
            raise NotFound("Không tìm thấy thư nhắc")
    except DomainError as exc:
        return _problem(request, officer, exc, back=PATH)
    return render(request, "console/thu_nhac.html", officer=officer, current="thu-nhac", title=r.subject, one=r)


@router.post("/thu-nhac/{reminder_id}/gui-lai")
def resend_form(request: Request, officer: PageOfficer, session: PageSession, reminder_id: str) -> Response:
    try:
        _require_admin(officer)
        if not reminder_id.isdigit() or len(reminder_id) > 18:
            raise NotFound("Không tìm thấy thư nhắc")
        client = _client(request)
        if client.one(officer, int(reminder_id)).unit_code not in unit_names_in_reach(session, officer):
            raise NotFound("Không tìm thấy thư nhắc")
        client.resend(officer, int(reminder_id))
    except DomainError as exc:
        return _problem(request, officer, exc, back=PATH)
    return RedirectResponse(f"{PATH}?{urlencode({'tb': 'gui-lai'})}", 303)


# The “Mẫu thư nhắc” pages live in their own module on this same router (app.py includes it).
from services.review.outbox import template_pages as _template_pages  # noqa: E402, F401
