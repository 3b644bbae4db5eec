"""The dev inbox page: what the local SMTP server received, readable by a person."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.notify import mailbox
from services.notify.config import NotifySettings
from shared.timeutil import local

router = APIRouter()
_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"]))


def _settings(request: Request) -> NotifySettings:
    s: NotifySettings = request.app.state.settings
    return s


@router.get("/hop-thu", response_class=HTMLResponse)
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


@router.get("/hop-thu/{message_id}", response_class=HTMLResponse)
def message(request: Request, message_id: str) -> HTMLResponse:
    s = _settings(request)
    if not s.dev_mailbox_dir:
        from shared.errors import NotFound

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
