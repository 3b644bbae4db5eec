"""“Ai đã xem dữ liệu của người này” (/console/ai-da-xem, quản trị): a form for a person's ID
number or phone, posted (never in the URL: addresses end up in logs and browser histories), and
the answer: their initiatives and every officer who saw their data, when and what. The page
never shows the number back in clear, not even in the form. Rules in viewers.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from services.review.accounts.deps import PageOfficer, PageSession
from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.accounts.templating import add_templates, render
from services.review.audit import viewers
from services.review.console.pages import _cipher, _problem
from services.review.workflow.access import require_role
from shared.errors import DomainError

add_templates(Path(__file__).parent / "templates")
router = APIRouter(prefix="/console", include_in_schema=False)
PATH = "/console/ai-da-xem"


def _page(
    request: Request,
    officer: Officer,
    *,
    found: viewers.WhoSaw | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "console/ai_da_xem.html",
        officer=officer,
        current="ai-da-xem",
        title="Ai đã xem dữ liệu của người này",
        status=status,
        found=found,
        error=error,
    )


@router.get("/ai-da-xem")
def form(request: Request, officer: PageOfficer) -> Response:
    try:
        require_role(officer, (Role.quan_tri,))
    except DomainError as exc:
        return _problem(request, officer, exc, back="/console/")
    return _page(request, officer)


@router.post("/ai-da-xem")
def lookup(
    request: Request, officer: PageOfficer, session: PageSession, so: Annotated[str, Form(max_length=32)] = ""
) -> Response:
    try:
        found = viewers.who_saw(session, officer, _cipher(request), so)
    except DomainError as exc:
        session.rollback()
        if exc.status_code == 422:
            return _page(request, officer, error=exc.message, status=422)
        return _problem(request, officer, exc, back=PATH)
    return _page(request, officer, found=found)
