"""Planning and sending on the real database and a real SMTP server: the clock driven by the
test, reminders at the right offsets, once each, stopping for a unit once it has nominated, the
overdue unit's parent told once; the server away for the first half of a send: every reminder
arrives exactly once; a 5xx for an address recorded, not retried."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.notify import mailer, planner, sender
from services.notify.config import NotifySettings
from services.notify.models import Reminder
from services.notify.tasks import policy
from shared.db import tenant_session
from shared.timeutil import VN_TZ
from tests.notify.conftest import THANH_HOA, obligations, received, unit
from tests.support.netproxy import Proxy


def vn(m: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(2021, m, d, h, mi, tzinfo=VN_TZ)


def _plan(sessions: sessionmaker[Session], s: NotifySettings, owed: object, at: dt.datetime) -> list[int]:
    with tenant_session(sessions, THANH_HOA) as session:
        return planner.plan(session, owed, at, policy(s))  # type: ignore[arg-type]  # the test's ObligationsOut


def _send(sessions: sessionmaker[Session], s: NotifySettings, ids: list[int]) -> sender.Outcome:
    return sender.send_batch(sessions, THANH_HOA, ids, lambda: mailer.connect(s), s.smtp_from)


def _rows(sessions: sessionmaker[Session]) -> list[Reminder]:
    with tenant_session(sessions, THANH_HOA) as session:
        return list(session.scalars(select(Reminder).order_by(Reminder.id)))


def test_the_clock_moves_through_a_deadline(
    sessions: sessionmaker[Session], notify_settings: NotifySettings, smtp: tuple[int, Path]
) -> None:
    _, maildir = smtp
    a, b, done = unit("HATRUNG"), unit("NGASON", used=1, mn=2), unit("BIMSON", used=1)
    owed = obligations([a, b, done])
    deadline = owed.deadlines[0].deadline_id
    assert _plan(sessions, notify_settings, owed, vn(4, 9, 6, 59)) == []  # before the 7-day mark
    first = _plan(sessions, notify_settings, owed, vn(4, 9, 7, 0))
    assert len(first) == 2  # BIMSON has its minimum: nothing for it
    assert _plan(sessions, notify_settings, owed, vn(4, 9, 7, 1)) == []  # the same offset again: nothing
    out = _send(sessions, notify_settings, first)
    assert sorted(out.sent) == sorted(first) and out.failed == []
    mails = received(maildir)
    assert sorted(m["To"] for m in mails) == ["hatrung@ldld.example.vn", "ngason@ldld.example.vn"]
    body = {m["To"]: m.get_body(("plain",)).get_content() for m in mails}  # type: ignore[union-attr]
    assert "Còn 7 ngày đến hạn 24:00 ngày 16/04/2021" in body["hatrung@ldld.example.vn"]
    assert "đã chọn 0/2 sáng kiến, cần ít nhất 1" in body["hatrung@ldld.example.vn"]
    assert "đã chọn 1/2 sáng kiến, cần ít nhất 2" in body["ngason@ldld.example.vn"]
    assert "https://sangkien.example.vn/console/de-cu?chuong_trinh=75k-2021&dot=dot-1" in body["ngason@ldld.example.vn"]
    assert mails[0]["Subject"].startswith("[Sáng kiến] Còn 7 ngày: hạn giới thiệu sáng kiến Đợt 1")
    # Sending the same ids again (a retried task): nothing more arrives.
    assert _send(sessions, notify_settings, first).sent == []
    assert len(received(maildir)) == 2

    # Three days before: HATRUNG still owes, NGASON nominated in between (review says fulfilled).
    owed = obligations([a, unit("NGASON", used=2, mn=2), done], deadline_id=deadline)
    third = _plan(sessions, notify_settings, owed, vn(4, 13, 7, 0))
    assert len(third) == 1
    _send(sessions, notify_settings, third)
    assert [m["To"] for m in received(maildir)][2:] == ["hatrung@ldld.example.vn"]

    # After midnight of the 16th: no more reminders to the unit; its parent hears once.
    late = _plan(sessions, notify_settings, owed, vn(4, 17, 0, 5))
    assert len(late) == 1
    _send(sessions, notify_settings, late)
    assert _plan(sessions, notify_settings, owed, vn(4, 18, 9)) == []
    escalation = received(maildir)[-1]
    assert escalation["To"] == "tinh@ldld.example.vn"
    text = escalation.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Đã quá hạn 24:00 ngày 16/04/2021" in text and "Liên đoàn Lao động huyện HATRUNG" in text
    assert "NGASON" not in text
    offsets = [(r.unit_code, r.offset_code, r.state) for r in _rows(sessions)]
    assert offsets == [
        ("HATRUNG", "7d", "sent"),
        ("NGASON", "7d", "sent"),
        ("HATRUNG", "3d", "sent"),
        ("thanh-hoa", "qua-han", "sent"),
    ]


def test_no_address_is_recorded_and_markup_arrives_as_text(
    sessions: sessionmaker[Session], notify_settings: NotifySettings, smtp: tuple[int, Path]
) -> None:
    _, maildir = smtp
    owed = obligations([unit("X1", email=None), unit("X2", unit_name="CĐCS <b>Nhà máy</b> & Co")])
    ids = _plan(sessions, notify_settings, owed, vn(4, 15, 8))
    assert len(ids) == 1  # X1 has nothing to send to
    _send(sessions, notify_settings, ids)
    [mail] = received(maildir)
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "CĐCS &lt;b&gt;Nhà máy&lt;/b&gt; &amp; Co" in html and "<b>Nhà máy</b>" not in html
    states = {r.unit_code: (r.state, r.error) for r in _rows(sessions)}
    assert states["X1"][0] == "skipped" and "chưa có địa chỉ email" in (states["X1"][1] or "")


def test_a_refused_address_is_failed_for_good(
    sessions: sessionmaker[Session], notify_settings: NotifySettings, smtp: tuple[int, Path]
) -> None:
    _, maildir = smtp
    owed = obligations([unit("R1", email="cu@tu-choi.example.vn"), unit("R2")])
    ids = _plan(sessions, notify_settings, owed, vn(4, 15, 8))
    out = _send(sessions, notify_settings, ids)
    assert len(out.sent) == 1 and len(out.failed) == 1
    assert [m["To"] for m in received(maildir)] == ["r2@ldld.example.vn"]
    failed = next(r for r in _rows(sessions) if r.unit_code == "R1")
    assert failed.state == "failed" and failed.error == "Máy chủ thư từ chối địa chỉ nhận (mã 550)"
    assert _send(sessions, notify_settings, ids).sent == []  # not retried


def test_the_server_away_for_the_first_half(
    sessions: sessionmaker[Session], notify_settings: NotifySettings, smtp: tuple[int, Path]
) -> None:
    port, maildir = smtp
    proxy = Proxy(port)  # down: nothing listens on its port yet
    s = notify_settings.model_copy(update={"smtp_port": proxy.port, "smtp_timeout_seconds": 5.0})
    owed = obligations([unit(f"U{i:03d}") for i in range(40)])
    ids = _plan(sessions, s, owed, vn(4, 15, 8))
    assert len(ids) == 40
    with pytest.raises(sender.TemporaryFailure):
        _send(sessions, s, ids)
    assert received(maildir) == [] and all(r.state == "planned" for r in _rows(sessions))
    proxy.up()
    try:
        first = _send(sessions, s, ids[:20])
        proxy.down()  # gone again in the middle
        with pytest.raises(sender.TemporaryFailure):
            _send(sessions, s, ids)
        proxy.up()
        rest = _send(sessions, s, ids)  # the task's retry: the whole batch again
    finally:
        proxy.down()
    assert len(first.sent) == 20 and len(rest.sent) == 20
    mails = received(maildir)
    assert len(mails) == 40 and len({m["Message-ID"] for m in mails}) == 40
    assert sorted(m["To"] for m in mails) == sorted(f"u{i:03d}@ldld.example.vn" for i in range(40))
