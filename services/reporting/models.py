"""The reporting service's tables (schema ``reporting``): render jobs of nomination dossiers.

A job is one dossier (a unit's nominations in a round) as review handed it over: the snapshot
itself (no personal data in clear: review masked it), its content hash, which names the objects
in storage, and the job's state. ``tenant_id`` leads every key; row-level security is forced.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, SmallInteger, String, Text, UniqueConstraint, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA = "reporting"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA, naming_convention=NAMING)


class DossierJob(Base):
    __tablename__ = "dossier_jobs"
    __table_args__ = (
        # The same data asked for twice is one job (and one pair of objects).
        UniqueConstraint("tenant_id", "content_hash", name="uq_dossier_jobs_content"),
    )

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    content_hash: Mapped[str] = mapped_column(String(64))
    campaign_code: Mapped[str] = mapped_column(String(64))
    round_code: Mapped[str] = mapped_column(String(32))
    unit_code: Mapped[str] = mapped_column(String(64))
    unit_name: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)  # the Dossier contract's JSON
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)  # renders begun
    renders: Mapped[int] = mapped_column(SmallInteger, default=0)  # renders that set it done
    pdf_key: Mapped[str | None] = mapped_column(Text)
    docx_key: Mapped[str | None] = mapped_column(Text)
    pdf_bytes: Mapped[int | None] = mapped_column(BigInteger)  # as storage reported them
    docx_bytes: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[int] = mapped_column(Integer)  # the officer's id in review (no name)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
