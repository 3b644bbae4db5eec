"""Notify on real parts: the worker's database (migrated, with the notify schema), its Redis,
and a real SMTP server (aiosmtpd) per test that keeps what it accepts as .eml files, so a test
counts exactly what a mailbox would have received. Obligations are built here as review's
contract carries them (review's side has its own tests)."""

from __future__ import annotations

import datetime as dt
import email
import secrets
from collections.abc import Callable, Iterator
from email import policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from devstack.embedded import free_port
from devstack.smtp import MaildirHandler
from services.notify.config import NotifySettings
from services.notify.messages import SAMPLE_DEADLINE
from shared.config import CommonSettings
from shared.contracts.obligations import ObligationsOut, UnitDue
from shared.db import make_sessionmaker
from shared.timeutil import end_of_day

THANH_HOA = 38


class RefusingHandler(MaildirHandler):
    """The real server, refusing for good (550) any address at "tu-choi.example.vn"."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address.endswith("@tu-choi.example.vn"):
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    maildir = tmp_path / "mail"
    port = free_port()
    controller = Controller(RefusingHandler(maildir), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, maildir
    controller.stop()


def received(maildir: Path) -> list[email.message.EmailMessage]:
    out = []
    for p in sorted(maildir.glob("*.eml")):
        msg = email.message_from_bytes(p.read_bytes(), policy=policy.default)
        assert isinstance(msg, email.message.EmailMessage)
        out.append(msg)
    return out


@pytest.fixture
def notify_settings(base_env: dict[str, str], migrated: CommonSettings, smtp: tuple[int, Path]) -> NotifySettings:
    env = {k.lower(): v for k, v in base_env.items()}
    return NotifySettings(**env, smtp_port=smtp[0], console_url="https://sangkien.example.vn")


@pytest.fixture
def sessions(app_engine: Engine, migrated: CommonSettings) -> Iterator[sessionmaker[Session]]:
    factory = make_sessionmaker(app_engine)
    yield factory
    # The ledger rows a test wrote: another test's deadlines must start from an empty ledger.
    with app_engine.begin() as c:
        c.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(THANH_HOA)})
        c.execute(text("DELETE FROM notify.reminders WHERE tenant_id = :t"), {"t": THANH_HOA})


def unit(code: str, *, used: int = 0, mx: int | None = 2, mn: int | None = None, **over: Any) -> UnitDue:
    body: dict[str, Any] = {
        "unit_code": code,
        "unit_name": f"Liên đoàn Lao động huyện {code}",
        "email": f"{code.lower()}@ldld.example.vn",
        "parent_code": "thanh-hoa",
        "parent_name": "Liên đoàn Lao động tỉnh Thanh Hóa",
        "parent_email": "tinh@ldld.example.vn",
        "used": used,
        "min_count": mn,
        "max_count": mx,
        "fulfilled": used >= (mn if mn is not None else 1),
        "console_path": "/console/de-cu?chuong_trinh=75k-2021&dot=dot-1",
    }
    body.update(over)
    return UnitDue(**body)


DUE = end_of_day(dt.date(2021, 4, 16))  # 24:00 ngày 16/4/2021 (Thanh Hóa, round 1)


def obligations(units: list[UnitDue], *, due: dt.datetime = DUE, deadline_id: int | None = None) -> ObligationsOut:
    return ObligationsOut(
        tenant_id=THANH_HOA,
        deadlines=[
            # Thanh Hóa's round 1 of 2021, as notify's own sample has it.
            SAMPLE_DEADLINE.model_copy(
                update={"deadline_id": deadline_id or secrets.randbelow(10**9), "due_at": due, "units": units}
            )
        ],
    )


Obligations = Callable[..., ObligationsOut]
