"""Sending a batch of reminders over one SMTP connection, each once — as near to once as a mail
server and a database, which cannot commit together, allow.

For each reminder:

1. Its ledger row is locked (``FOR UPDATE SKIP LOCKED``: a second copy of the task, delivered
   while this one runs, skips what this one holds) and the message goes to the server up to,
   not including, the "." that ends DATA. Killed until here, the server drops the unfinished
   message and the row is still planned: the next try sends it, once.
2. The row is marked sent (the UPDATE executed, not committed), the "." is written and the
   COMMIT right after it, before the server's answer is awaited.
3. The answer settles it: 250, nothing more to do; 4xx or the connection lost (RFC 5321 §3.8:
   as a 451), back to planned and the task retries; 5xx, failed for good with the reason.

What a SIGKILL leaves, by where it lands:

* Between writing the "." and writing the COMMIT — two system calls microseconds apart (perf
  trace on the 2-core test machine under load: median 22 µs, 90th percentile 30 µs, tracing
  included; a reminder takes 5–40 ms end to end) — the server keeps the message and the row
  stays planned: it is sent again, with the same Message-ID (derived from the row), which a
  deduplicating mailbox shows once. This is the one window left, and it is a duplicate by
  choice: the COMMIT written before the "." would make it a loss. The "." waits in the kernel
  until the COMMIT is written (``_end_data_and_commit``), or the scheduler stretches the window
  to milliseconds. (tests/reliability/test_kill_storms.py kills workers sending 10,000
  reminders: committing after the server's 250, as this module did before, sent 5 twice in a
  run; this order with the "." written straight out, 1–2 in each of three; held back, none in
  three.)
* After the COMMIT, before the answer: the row says sent. A server that has the whole message
  answers at once and keeps it (RFC 1047 asks it to answer first; an MTA queues on the "."), so
  the row is right — unless the server refuses that very message in that moment and the row
  cannot be put back (this process killed, or the database away just then): the one way a
  reminder can be lost, a refusal at the end of DATA and a second fault together.
* The answer slow (past ``PROMPT_REPLY_SECONDS``): the server is deciding (a content filter,
  a relay holding the message) and may well refuse. The row goes back to planned while this
  process waits, with a session-level advisory lock held on a connection of its own until the
  answer is settled: another copy of the task skips the row while this sender lives, and the
  lock goes with the connection when the process dies, so the next try sends it again — a
  duplicate if the server kept it after all, never a loss.
"""

from __future__ import annotations

import contextlib
import email.generator
import email.policy
import email.utils
import io
import re
import select
import smtplib
import socket
import ssl
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import psycopg
import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.notify import repository as repo
from services.notify.models import Reminder, ReminderState
from shared.db import set_tenant, tenant_session
from shared.timeutil import now

SmtpFactory = Callable[[], smtplib.SMTP]
log = structlog.get_logger("notify.sender")

# How long a server's answer to the "." may take and still be read as "it has the message":
# the local relay answers in milliseconds; a quarter of a second longer is a server at work.
PROMPT_REPLY_SECONDS = 0.25
_END_OF_DATA = b".\r\n"


class TemporaryFailure(Exception):
    """The mail server cannot take it now; the task retries."""


@dataclass
class Outcome:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)  # another sender's (sending, or awaiting), or done


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


# --- the SMTP exchange, split at the "." ----------------------------------------------------------


def _refused(smtp: smtplib.SMTP, code: int) -> None:
    """After a refusal, as smtplib does: 421 means the server is closing; otherwise RSET."""
    if code == 421:
        smtp.close()
    else:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.rset()


def _flatten(smtp: smtplib.SMTP, msg: EmailMessage, addresses: list[str]) -> tuple[bytes, list[str]]:
    """The message's bytes and MAIL options, as ``smtplib.SMTP.send_message`` makes them."""
    options: list[str] = []
    try:
        "".join(addresses).encode("ascii")
        international = False
    except UnicodeEncodeError:
        if not smtp.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError("máy chủ thư không nhận địa chỉ có dấu (SMTPUTF8)") from None
        international = True
        options += ["SMTPUTF8", "BODY=8BITMIME"]
    out = io.BytesIO()
    email.generator.BytesGenerator(out, policy=email.policy.SMTPUTF8 if international else None).flatten(
        msg, linesep="\r\n"
    )
    data = out.getvalue()
    if smtp.does_esmtp and smtp.has_extn("size"):
        options.insert(0, f"size={len(data)}")
    return data, options


def _open_data(smtp: smtplib.SMTP, msg: EmailMessage) -> None:
    """MAIL, RCPT, DATA and the message, stopped short of the "." that ends it: what smtplib's
    ``send_message`` does for one recipient, with the last line left to ``_end_data_and_commit``."""
    smtp.ehlo_or_helo_if_needed()
    from_addr = email.utils.getaddresses([msg["From"]])[0][1]
    to_addr = email.utils.getaddresses([msg["To"]])[0][1]
    data, options = _flatten(smtp, msg, [from_addr, to_addr])
    code, resp = smtp.mail(from_addr, options)
    if code != 250:
        _refused(smtp, code)
        raise smtplib.SMTPSenderRefused(code, resp, from_addr)
    code, resp = smtp.rcpt(to_addr)
    if code not in (250, 251):
        _refused(smtp, code)
        raise smtplib.SMTPRecipientsRefused({to_addr: (code, resp)})
    smtp.putcmd("data")
    code, resp = smtp.getreply()
    if code != 354:
        _refused(smtp, code)
        raise smtplib.SMTPDataError(code, resp)
    body = re.sub(rb"(?m)^\.", b"..", data)  # a line starting with "." is doubled (RFC 5321 4.5.2)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    smtp.send(body)


def _end_data_and_commit(smtp: smtplib.SMTP, session: Session) -> None:
    """The "." and then, at once, the COMMIT of the row marked sent; the "." held back in the
    kernel (TCP_CORK) until the COMMIT is written. Held back, writing it wakes nobody: written
    straight to the server, it wakes the server's process, the scheduler may give that process
    this one's CPU on the spot, and a kill meanwhile would find the "." gone and the COMMIT not
    — a window of the scheduler's milliseconds instead of this code's microseconds. Once the
    COMMIT is written the "." goes even if this process dies (closing a socket sends what it
    holds). Not committed, the connection is reset instead, which drops the "." unsent.

    Straight to the socket and to psycopg: SQLAlchemy's commit would add its bookkeeping to the
    window (the session's own commit that follows finds nothing left to do)."""
    dbapi: Any = session.connection().connection.dbapi_connection
    sock: Any = smtp.sock
    cork = getattr(socket, "TCP_CORK", None)  # Linux; elsewhere the "." goes at once
    if cork is not None:
        sock.setsockopt(socket.IPPROTO_TCP, cork, 1)
    sock.sendall(_END_OF_DATA)
    try:
        dbapi.commit()
    except BaseException:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        smtp.close()
        raise
    if cork is not None:
        sock.setsockopt(socket.IPPROTO_TCP, cork, 0)


def _answers_within(smtp: smtplib.SMTP, seconds: float) -> bool:
    """The server's answer has arrived, or arrives within ``seconds``. SMTP is lock-step: after
    the "." nothing is buffered on our side but what TLS may have decrypted already."""
    sock: Any = smtp.sock
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(seconds * 1000))


# --- waiting for a slow answer -----------------------------------------------------------------------


@contextlib.contextmanager
def _waiting(engine: Engine, tenant_id: int, reminder_id: int) -> Iterator[Callable[..., None]]:
    """The row back to planned while the server takes its time, under this process's advisory
    lock (a connection of its own: the lock belongs to it, not to a transaction); yields the
    function that records the outcome. The lock is released at the end, or with the connection
    if the process dies."""
    conn = engine.connect()
    try:
        with Session(bind=conn) as s, s.begin():
            set_tenant(s.connection(), tenant_id)
            repo.keep_claimed(s, tenant_id, reminder_id)
            repo.mark(s, tenant_id, reminder_id, state=ReminderState.planned.value, sent_at=None, message_id=None)

        def settle(**values: Any) -> None:
            with Session(bind=conn) as s, s.begin():
                set_tenant(s.connection(), tenant_id)
                repo.mark(s, tenant_id, reminder_id, **values)

        yield settle
        repo.let_go(conn, tenant_id, reminder_id)
    except BaseException:
        # The lock must not stay on a pooled connection: dropped with it.
        conn.invalidate()
        raise
    finally:
        conn.close()


# --- the batch ---------------------------------------------------------------------------------------


@dataclass
class _Connection:
    smtp: smtplib.SMTP | None = None
    mid_data: bool = False  # a DATA begun and not ended: QUIT now would be read as text

    def close(self) -> None:
        if self.smtp is None:
            return
        if self.mid_data:
            self.smtp.close()  # the server drops the unfinished message
            return
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()


def _sent_values(r: Reminder, attempts: int) -> dict[str, Any]:
    return {
        "state": ReminderState.sent.value,
        "sent_at": now(),
        "message_id": message_id(r),
        "attempts": attempts,
        "error": None,
    }


def _back_to_planned(sessions: sessionmaker[Session], tenant_id: int, reminder_id: int) -> None:
    with tenant_session(sessions, tenant_id) as s:
        repo.mark(s, tenant_id, reminder_id, state=ReminderState.planned.value, sent_at=None, message_id=None)


def send_batch(
    sessions: sessionmaker[Session],
    tenant_id: int,
    ids: Iterable[int],
    connect: SmtpFactory,
    sender: str,
    *,
    prompt_reply_seconds: float = PROMPT_REPLY_SECONDS,
) -> Outcome:
    out = Outcome()
    link = _Connection()
    try:
        for reminder_id in ids:
            with tenant_session(sessions, tenant_id) as s:
                r = repo.claim(s, tenant_id, reminder_id)
                if r is None or r.state != ReminderState.planned.value or not r.to_email:
                    out.held.append(reminder_id)
                    continue
                attempts = r.attempts + 1
                if link.smtp is None:
                    try:
                        link.smtp = connect()
                        # The "." goes as a write of its own, right behind the message: with
                        # Nagle's algorithm it would wait for the server's delayed ACK (40 ms),
                        # every message, and leave the process later than the write says.
                        sock: Any = link.smtp.sock
                        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    except (smtplib.SMTPException, OSError) as exc:
                        # Refused at the door (TLS, a wrong password, the server away) is about
                        # the configuration or the server, never about this address: retry.
                        raise TemporaryFailure(type(exc).__name__) from exc
                smtp = link.smtp
                try:
                    link.mid_data = True
                    _open_data(smtp, build(r, sender))
                except smtplib.SMTPException as exc:
                    link.mid_data = False
                    reason = _permanent(exc)
                    if reason is None:
                        raise TemporaryFailure(type(exc).__name__) from exc
                    repo.mark(s, tenant_id, r.id, state=ReminderState.failed.value, error=reason, attempts=attempts)
                    out.failed.append(r.id)
                    continue
                except OSError as exc:
                    raise TemporaryFailure(type(exc).__name__) from exc
                repo.mark(s, tenant_id, r.id, **_sent_values(r, attempts))
                try:
                    _end_data_and_commit(smtp, s)
                except (OSError, psycopg.Error) as exc:
                    # Nothing committed: the row is still planned and is sent again (twice, if
                    # the "." had gone and the database failed just then).
                    raise TemporaryFailure(type(exc).__name__) from exc
                link.mid_data = False
            # Committed as sent; the server's answer settles it.
            if _answers_within(smtp, prompt_reply_seconds):
                code, reason = _settle(sessions, tenant_id, r, attempts, smtp, None)
            else:
                log.info("smtp_answer_slow", reminder=r.id, waited=prompt_reply_seconds)
                engine: Any = sessions.kw["bind"]
                with _waiting(engine, tenant_id, r.id) as record:
                    code, reason = _settle(sessions, tenant_id, r, attempts, smtp, record)
            if code == 250:
                out.sent.append(r.id)
            elif reason is not None:
                out.failed.append(r.id)
            else:
                raise TemporaryFailure(f"SMTP {code}")
    finally:
        link.close()
    return out


def _settle(
    sessions: sessionmaker[Session],
    tenant_id: int,
    r: Reminder,
    attempts: int,
    smtp: smtplib.SMTP,
    record: Callable[..., None] | None,
) -> tuple[int, str | None]:
    """Read the answer to the "." and make the row say it: sent (already, unless it was put back
    to planned to wait), planned again for a 4xx or a lost connection, failed for a 5xx.
    Returns the code (0: no answer) and the reason of a refusal for good."""
    try:
        code, resp = smtp.getreply()
    except (smtplib.SMTPException, OSError):
        code, resp = 0, b""
    if code == 250:
        if record is not None:
            record(**_sent_values(r, attempts))
        return code, None
    reason = _permanent(smtplib.SMTPDataError(code, resp)) if code >= 500 else None
    if reason is not None:
        values = {"state": ReminderState.failed.value, "error": reason, "sent_at": None, "message_id": None}
        if record is not None:
            record(**values)
        else:
            with tenant_session(sessions, tenant_id) as s:
                repo.mark(s, tenant_id, r.id, **values)
        _refused(smtp, code)
        return code, reason
    if record is None:
        _back_to_planned(sessions, tenant_id, r.id)
    if code:
        _refused(smtp, code)
    return code, None
