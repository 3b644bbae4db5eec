"""Notify's HTTP API: the outbox (for review's console, with a service token naming the
officer's tenant) and, in `make run`, the dev inbox page of the local SMTP server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.notify import mailbox, outbox
from services.notify.config import NotifySettings
from shared.apierrors import error_responses
from shared.contracts.reminders import NOTIFY_AUDIENCE, SEND_TASK, OutboxOut, ReminderOut
from shared.db import tenant_session
from shared.errors import NotFound
from shared.servicetoken import Claims, bearer, verify
from shared.timeutil import local

router = APIRouter()
_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"]))


def _settings(request: Request) -> NotifySettings:
    s: NotifySettings = request.app.state.settings
    return s


def caller(request: Request) -> Claims:
    return verify(request.app.state.token_key, bearer(request.headers.get("authorization")), aud=NOTIFY_AUDIENCE)


Caller = Annotated[Claims, Depends(caller)]


# A service token for notify (401); the caller's tenant's reminders only (404 for any other).
OUTBOX_ERRORS = error_responses(401, 404)


@router.get("/api/v1/reminders", response_model=OutboxOut, tags=["thư nhắc"], responses=error_responses(401))
def reminders(claims: Caller, request: Request, state: Annotated[str, Query(max_length=16)] = "") -> OutboxOut:
    with tenant_session(request.app.state.sessions, claims.tenant_id) as s:
        return outbox.outbox(s, claims.tenant_id, state)


@router.get("/api/v1/reminders/{reminder_id}", response_model=ReminderOut, tags=["thư nhắc"], responses=OUTBOX_ERRORS)
def reminder(reminder_id: int, claims: Caller, request: Request) -> ReminderOut:
    with tenant_session(request.app.state.sessions, claims.tenant_id) as s:
        return outbox.describe(outbox.one(s, claims.tenant_id, reminder_id), body=True)


@router.post(
    "/api/v1/reminders/{reminder_id}/resend",
    response_model=ReminderOut,
    tags=["thư nhắc"],
    responses=error_responses(401, 404, 409),  # 409: already sent, waiting, or no address
)
def resend(reminder_id: int, claims: Caller, request: Request) -> ReminderOut:
    with tenant_session(request.app.state.sessions, claims.tenant_id) as s:
        answer = outbox.describe(outbox.resend(s, claims.tenant_id, reminder_id))
    request.app.state.celery.send_task(SEND_TASK, args=[claims.tenant_id, [reminder_id]])  # committed above
    return answer


# The dev inbox of `make run` (pages, not an API: out of the OpenAPI document).
@router.get("/hop-thu", response_class=HTMLResponse, include_in_schema=False)
def inbox(request: Request) -> HTMLResponse:
    s = _settings(request)
    messages = []
    if s.dev_mailbox_dir:
        for m in mailbox.list_messages(s.dev_mailbox_dir):
            messages.append({**m.__dict__, "received_text": f"{local(m.received):%H:%M:%S %d/%m/%Y}"})
    html = _env.get_template("inbox.html").render(
        configured=bool(s.dev_mailbox_dir), messages=messages, message=None, mailbox_web_url=s.mailbox_web_url
    )
    return HTMLResponse(html)


@router.get("/hop-thu/{message_id}", response_class=HTMLResponse, include_in_schema=False)
def message(request: Request, message_id: str) -> HTMLResponse:
    s = _settings(request)
    if not s.dev_mailbox_dir:
        raise NotFound("Không tìm thấy thư")
    summary, text, _html = mailbox.read_message(s.dev_mailbox_dir, message_id)
    html = _env.get_template("inbox.html").render(
        configured=True,
        message=summary,
        text=text,
        received=f"{local(summary.received):%H:%M:%S %d/%m/%Y}",
        messages=[],
        mailbox_web_url=None,
    )
    return HTMLResponse(html)
