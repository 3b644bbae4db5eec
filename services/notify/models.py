"""Notify's tables (schema ``notify``): the reminders ledger.

One row per (tenant, deadline, unit, offset): the key of "exactly once". A reminder is written
here before any worker sees it and marked sent only when the mail server accepted it; a second
plan, a second beat or a retried task meets the unique key and writes nothing again."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, Identity, Integer, MetaData, SmallInteger, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA = "notify"


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA)


class ReminderState(StrEnum):
    planned = "planned"  # in the ledger, handed (or about to be handed) to a worker
    sent = "sent"  # the SMTP server accepted it
    failed = "failed"  # refused for good (a 5xx for the address): shown, not retried
    skipped = "skipped"  # nothing to send to (the unit has no address)


class Reminder(Base):
    __tablename__ = "reminders"

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    deadline_id: Mapped[int] = mapped_column(BigInteger)
    unit_code: Mapped[str] = mapped_column(String(64))
    offset_code: Mapped[str] = mapped_column(String(16))  # "7d", "3d", "1d", "0d", "qua-han"
    kind: Mapped[str] = mapped_column(String(16))  # "nhac-han" (the unit) or "qua-han" (its parent)
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    send_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    to_email: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=ReminderState.planned.value)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class MailTemplate(Base):
    """A tenant's own wording of one reminder ("nhac_han" or "qua_han"); absent, the shipped
    files in templates/mail are used."""

    __tablename__ = "templates"

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[int] = mapped_column(BigInteger)  # the officer's id (review's), never a name
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
