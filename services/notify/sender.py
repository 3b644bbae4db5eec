"""Sending a batch of reminders over one SMTP connection, each exactly once.

For each reminder: its ledger row is locked (``FOR UPDATE SKIP LOCKED``: a second copy of the
task, delivered while this one runs, skips what this one holds), sent, and marked sent in the
same transaction, committed as soon as the server accepted it. A temporary failure (the server
away, a 4xx) rolls that one back and raises: the task retries later with what is left; what was
sent before stays sent. A permanent refusal (5xx for the address) is recorded and not retried.

The one window left: the process killed after the server accepted a message and before the
commit (a millisecond) — that reminder is sent again by the next try. Its Message-ID is the
same, derived from the ledger row, so a mailbox that deduplicates shows it once."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate

from sqlalchemy.orm import Session, sessionmaker

from services.notify import repository as repo
from services.notify.models import Reminder, ReminderState
from shared.db import tenant_session
from shared.timeutil import now

SmtpFactory = Callable[[], smtplib.SMTP]


class TemporaryFailure(Exception):
    """The mail server cannot take it now; the task retries."""


@dataclass
class Outcome:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)  # locked by another worker, or done already


def message_id(r: Reminder) -> str:
    return f"<nhac-han.{r.tenant_id}.{r.id}@sangkien.local>"


def build(r: Reminder, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = r.to_email or ""
    msg["Subject"] = r.subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = message_id(r)
    msg.set_content(r.body_text)
    msg.add_alternative(r.body_html, subtype="html")
    return msg


def _permanent(exc: smtplib.SMTPException) -> str | None:
    """The server's refusal for good, as a Vietnamese line for the outbox; None if temporary."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(c >= 500 for c in codes):
            return f"Máy chủ thư từ chối địa chỉ nhận (mã {codes[0]})"
        return None
    if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500:
        return f"Máy chủ thư từ chối thư (mã {exc.smtp_code})"
    return None


def send_batch(
    sessions: sessionmaker[Session], tenant_id: int, ids: Iterable[int], connect: SmtpFactory, sender: str
) -> Outcome:
    out = Outcome()
    smtp: smtplib.SMTP | None = None
    try:
        for reminder_id in ids:
            with tenant_session(sessions, tenant_id) as s:
                r = repo.claim(s, tenant_id, reminder_id)
                if r is None or r.state != ReminderState.planned.value or not r.to_email:
                    out.held.append(reminder_id)
                    continue
                r.attempts += 1
                if smtp is None:
                    try:
                        smtp = connect()
                    except (smtplib.SMTPException, OSError) as exc:
                        # Refused at the door (TLS, a wrong password, the server away) is about
                        # the configuration or the server, never about this address: retry.
                        raise TemporaryFailure(type(exc).__name__) from exc
                try:
                    smtp.send_message(build(r, sender))
                except smtplib.SMTPException as exc:
                    reason = _permanent(exc)
                    if reason is None:
                        raise TemporaryFailure(type(exc).__name__) from exc
                    repo.mark(s, tenant_id, r.id, state=ReminderState.failed.value, error=reason, attempts=r.attempts)
                    out.failed.append(r.id)
                    continue
                except OSError as exc:
                    raise TemporaryFailure(type(exc).__name__) from exc
                repo.mark(
                    s,
                    tenant_id,
                    r.id,
                    state=ReminderState.sent.value,
                    sent_at=now(),
                    message_id=message_id(r),
                    attempts=r.attempts,
                    error=None,
                )
                out.sent.append(r.id)
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
    return out
