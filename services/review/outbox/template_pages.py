"""The console's “Mẫu thư nhắc”: the province's administrator edits the wording of the two
reminders (subject, plain text, HTML), previews a draft with the tenant's real data (notify
renders it; the sample when no deadline is ahead), saves it or goes back to the default. The
templates are notify's (its API, with a token signed for the officer: the tenant is the
officer's, so another tenant's wording is never reached).

The preview's HTML is the administrator's own markup rendered by notify: it is shown only inside
an iframe with ``sandbox=""`` (no script, no same origin, no forms) through ``srcdoc``, escaped
by Jinja into the attribute, never put into the console's page itself."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.review.accounts.deps import PageOfficer
from services.review.accounts.principal import Officer
from services.review.accounts.templating import render
from services.review.console.pages import _problem
from services.review.outbox.pages import PATH, _client, _require_admin, router
from shared.contracts.mailtemplates import PreviewOut, TemplateIn, TemplateOut
from shared.errors import DomainError, InvalidInput, NotFound

TEMPLATES_PATH = "/console/mau-thu-nhac"
NAMES = ("nhac_han", "qua_han")
NOTICES = {"luu": "Đã lưu mẫu thư.", "mac-dinh": "Đã dùng lại mẫu mặc định."}
Subject = Annotated[str, Form(max_length=500)]
BodyText = Annotated[str, Form(max_length=20_000)]
BodyHtml = Annotated[str, Form(max_length=50_000)]


def _name(name: str) -> str:
    if name not in NAMES:
        raise NotFound("Không có mẫu thư này")
    return name


def _page(
    request: Request,
    officer: Officer,
    *,
    notice: str | None = None,
    draft: tuple[str, TemplateIn] | None = None,
    preview: PreviewOut | None = None,
    error: InvalidInput | None = None,
) -> Response:
    listed = _client(request).templates(officer)
    items: list[TemplateOut] = []
    for t in listed.items:
        if draft is not None and draft[0] == t.name:
            # The administrator's draft stays in the form after a preview or a refusal.
            t = t.model_copy(update=draft[1].model_dump())
        items.append(t)
    response = render(
        request,
        "console/mau_thu_nhac.html",
        officer=officer,
        current="thu-nhac",
        title="Mẫu thư nhắc",
        items=items,
        variables=listed.variables,
        notice=notice,
        editing=draft[0] if draft else None,
        preview=preview,
        error=error,
    )
    if error is not None:
        response.status_code = 422
    return response


@router.get("/mau-thu-nhac")
def templates_page(request: Request, officer: PageOfficer, tb: Annotated[str, Query(max_length=16)] = "") -> Response:
    try:
        _require_admin(officer)
        return _page(request, officer, notice=NOTICES.get(tb))
    except DomainError as exc:
        return _problem(request, officer, exc, back=PATH)


@router.post("/mau-thu-nhac/{name}/xem-truoc")
def preview_form(
    request: Request, officer: PageOfficer, name: str, subject: Subject, body_text: BodyText, body_html: BodyHtml
) -> Response:
    draft = TemplateIn(subject=subject, body_text=body_text, body_html=body_html)
    try:
        _require_admin(officer)
        try:
            shown = _client(request).preview_template(officer, _name(name), draft)
        except InvalidInput as exc:
            return _page(request, officer, draft=(name, draft), error=exc)
        return _page(request, officer, draft=(name, draft), preview=shown)
    except DomainError as exc:
        return _problem(request, officer, exc, back=TEMPLATES_PATH)


@router.post("/mau-thu-nhac/{name}/luu")
def save_form(
    request: Request, officer: PageOfficer, name: str, subject: Subject, body_text: BodyText, body_html: BodyHtml
) -> Response:
    draft = TemplateIn(subject=subject, body_text=body_text, body_html=body_html)
    try:
        _require_admin(officer)
        try:
            _client(request).save_template(officer, _name(name), draft)
        except InvalidInput as exc:
            return _page(request, officer, draft=(name, draft), error=exc)
    except DomainError as exc:
        return _problem(request, officer, exc, back=TEMPLATES_PATH)
    return RedirectResponse(f"{TEMPLATES_PATH}?tb=luu#{name}", 303)


@router.post("/mau-thu-nhac/{name}/mac-dinh")
def reset_form(request: Request, officer: PageOfficer, name: str) -> Response:
    try:
        _require_admin(officer)
        _client(request).reset_template(officer, _name(name))
    except DomainError as exc:
        return _problem(request, officer, exc, back=TEMPLATES_PATH)
    return RedirectResponse(f"{TEMPLATES_PATH}?tb=mac-dinh#{name}", 303)
