"""Reading the local SMTP server's mailbox (a directory of .eml files) for the dev inbox page."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from shared.errors import NotFound

_SAFE_ID = re.compile(r"^[A-Za-z0-9_.\-]+$")


@dataclass(frozen=True)
class MailSummary:
    id: str
    sender: str
    to: str
    subject: str
    received: dt.datetime


def _parse(path: Path) -> EmailMessage:
    with path.open("rb") as f:
        msg = BytesParser(policy=policy.default).parse(f)
    assert isinstance(msg, EmailMessage)
    return msg


def list_messages(directory: str, limit: int = 200) -> list[MailSummary]:
    d = Path(directory)
    if not d.is_dir():
        return []
    files = sorted(d.glob("*.eml"), key=lambda p: p.name, reverse=True)[:limit]
    out = []
    for p in files:
        msg = _parse(p)
        out.append(
            MailSummary(
                id=p.stem,
                sender=str(msg.get("From", "")),
                to=str(msg.get("To", "")),
                subject=str(msg.get("Subject", "")),
                received=dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC),
            )
        )
    return out


def read_message(directory: str, message_id: str) -> tuple[MailSummary, str, str | None]:
    if not _SAFE_ID.match(message_id):
        raise NotFound("Không tìm thấy thư")
    p = Path(directory) / f"{message_id}.eml"
    if not p.is_file():
        raise NotFound("Không tìm thấy thư")
    msg = _parse(p)
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    summary = MailSummary(
        id=message_id,
        sender=str(msg.get("From", "")),
        to=str(msg.get("To", "")),
        subject=str(msg.get("Subject", "")),
        received=dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC),
    )
    text = text_part.get_content() if text_part is not None else ""
    html = html_part.get_content() if html_part is not None else None
    return summary, text, html
