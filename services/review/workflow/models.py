"""The workflow's tables (schema ``review``, migration 0005). ``tenant_id`` leads every key;
every table is under forced row-level security. The national inbox
(``national_nominations``) belongs to the Tổng Liên đoàn's tenant: a province may add rows that
carry its own id as the source and read those back, nothing else."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.review.models import Base

NATIONAL_TENANT_ID = 999  # the Tổng Liên đoàn Lao động Việt Nam


class ComplaintKind(StrEnum):
    noi_dung = "noi_dung"  # about the content
    ket_qua = "ket_qua"  # about the recognised result
    tac_gia = "tac_gia"  # an authorship (copyright) dispute


COMPLAINT_KIND_LABELS = {
    "noi_dung": "Khiếu nại về nội dung sáng kiến",
    "ket_qua": "Khiếu nại về kết quả sáng kiến đã được công nhận",
    "tac_gia": "Tranh chấp về quyền tác giả",
}


class Level(Base):
    """One step of a tenant's chain for a campaign, e.g. ``co_so`` (CĐCS) → ``cap_tren`` (LĐLĐ
    huyện, công đoàn ngành, CĐCS trực thuộc tỉnh) → ``tinh`` → ``toan_quoc``. A unit belongs to
    the level that lists its kind."""

    __tablename__ = "wf_levels"
    __table_args__ = (UniqueConstraint("tenant_id", "campaign_id", "ordinal"),)

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    ordinal: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(Text)
    unit_kinds: Mapped[list[str]] = mapped_column(ARRAY(String(32)))


class Settings(Base):
    """Per tenant and campaign: who may file a complaint."""

    __tablename__ = "wf_settings"
    __table_args__ = (CheckConstraint("complaints_from IN ('can_bo', 'cong_khai')", name="complaints_from"),)

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    # can_bo: officers of the tenant; cong_khai: also anyone holding the tracking code.
    complaints_from: Mapped[str] = mapped_column(String(16), default="can_bo")


class Round(Base):
    """A đợt: its own deadlines per level and quotas per unit; scores freeze when it closes."""

    __tablename__ = "wf_rounds"
    __table_args__ = (UniqueConstraint("tenant_id", "campaign_id", "code"),)

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    ordinal: Mapped[int] = mapped_column(SmallInteger)
    # The highest level a nomination may reach in this round (Thanh Hóa's round 2: the province
    # only commends); NULL: up to the Tổng Liên đoàn.
    top_level: Mapped[str | None] = mapped_column(String(32))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    snapshot_hash: Mapped[str | None] = mapped_column(String(64))
    snapshot: Mapped[Any] = mapped_column(JSONB, nullable=True)


class Deadline(Base):
    """Nominations arriving at ``level_code`` in a round are due by ``due_at``; ``scope_unit_id``
    narrows it to one unit's subtree (Hà Quảng's own date for its CĐCS)."""

    __tablename__ = "wf_deadlines"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "round_id"], ["wf_rounds.tenant_id", "wf_rounds.id"]),
        ForeignKeyConstraint(["tenant_id", "scope_unit_id"], ["units.tenant_id", "units.id"]),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    round_id: Mapped[int] = mapped_column(BigInteger)
    level_code: Mapped[str] = mapped_column(String(32))
    scope_unit_id: Mapped[int | None] = mapped_column(BigInteger)
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class QuotaRule(Base):
    """Each unit of ``from_level`` (within ``scope_unit_id``'s subtree when set) recommends at
    least ``min_count`` and at most ``max_count`` initiatives to its parent in the round."""

    __tablename__ = "wf_quota_rules"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "round_id"], ["wf_rounds.tenant_id", "wf_rounds.id"]),
        ForeignKeyConstraint(["tenant_id", "scope_unit_id"], ["units.tenant_id", "units.id"]),
        CheckConstraint("min_count IS NOT NULL OR max_count IS NOT NULL", name="some_bound"),
        CheckConstraint("min_count IS NULL OR max_count IS NULL OR min_count <= max_count", name="ordered"),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    round_id: Mapped[int] = mapped_column(BigInteger)
    from_level: Mapped[str] = mapped_column(String(32))
    scope_unit_id: Mapped[int | None] = mapped_column(BigInteger)
    min_count: Mapped[int | None] = mapped_column(Integer)
    max_count: Mapped[int | None] = mapped_column(Integer)


class QuotaUsage(Base):
    """The counter the database guards: a nomination adds one to ``used`` in the same
    transaction, and the CHECK refuses the row once it passes ``max_count + extra`` — however
    many officers nominate at once (the UPDATE serialises on the row)."""

    __tablename__ = "wf_quota_usage"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "round_id"], ["wf_rounds.tenant_id", "wf_rounds.id"]),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["units.tenant_id", "units.id"]),
        CheckConstraint("used >= 0 AND extra >= 0", name="non_negative"),
        CheckConstraint("max_count IS NULL OR used <= max_count + extra", name="within_quota"),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    round_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    unit_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)
    max_count: Mapped[int | None] = mapped_column(Integer)
    extra: Mapped[int] = mapped_column(Integer, default=0)  # granted by overrides (audited, with reasons)


class Criterion(Base):
    """A criterion of the campaign's rubric (tính mới, hiệu quả …) with its weight."""

    __tablename__ = "wf_criteria"
    __table_args__ = (
        UniqueConstraint("tenant_id", "campaign_id", "ordinal"),
        CheckConstraint("weight > 0", name="weight_positive"),
        CheckConstraint("max_score > 0", name="max_positive"),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    ordinal: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(Text)
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    max_score: Mapped[int] = mapped_column(SmallInteger, default=10)


class Case(Base):
    """The workflow's side of a submission: which unit holds it now, its own unit (the lowest
    that held it: outside it a trade secret shows only its name, effect and award), and what
    status to return to when a freeze ends."""

    __tablename__ = "wf_cases"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "submission_id"], ["submissions.tenant_id", "submissions.id"]),
        ForeignKeyConstraint(["tenant_id", "holder_unit_id"], ["units.tenant_id", "units.id"]),
        ForeignKeyConstraint(["tenant_id", "own_unit_id"], ["units.tenant_id", "units.id"]),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    submission_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    holder_unit_id: Mapped[int] = mapped_column(BigInteger)
    own_unit_id: Mapped[int] = mapped_column(BigInteger)
    trade_secret: Mapped[bool] = mapped_column(Boolean, default=False)
    status_before_freeze: Mapped[str | None] = mapped_column(String(32))
    awards: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)  # commendations received
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Score(Base):
    """One appraiser's score on one criterion, given at one unit in one round."""

    __tablename__ = "wf_scores"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "round_id"], ["wf_rounds.tenant_id", "wf_rounds.id"]),
        ForeignKeyConstraint(["tenant_id", "submission_id"], ["submissions.tenant_id", "submissions.id"]),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["units.tenant_id", "units.id"]),
        ForeignKeyConstraint(["tenant_id", "appraiser_id"], ["officers.tenant_id", "officers.id"]),
        CheckConstraint("score >= 0", name="score_non_negative"),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    round_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    unit_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    submission_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    appraiser_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    criterion_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    comment: Mapped[str | None] = mapped_column(Text)
    scored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Confirmation(Base):
    """An employer's (or head of unit's) confirmation that the initiative is applied, asked for
    by a signed, expiring, one-use link; ``consumed_at`` makes it one-use."""

    __tablename__ = "wf_confirmations"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "submission_id"], ["submissions.tenant_id", "submissions.id"]),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    submission_id: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    consumed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    confirmer_name: Mapped[str | None] = mapped_column(Text)
    confirmer_title: Mapped[str | None] = mapped_column(Text)
    applied_on: Mapped[dt.date | None] = mapped_column(Date)


class Complaint(Base):
    """A complaint about the content or result, or an authorship dispute: while open, the
    initiative cannot be selected."""

    __tablename__ = "wf_complaints"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "submission_id"], ["submissions.tenant_id", "submissions.id"]),
        CheckConstraint("kind IN ('noi_dung', 'ket_qua', 'tac_gia')", name="kind"),
        CheckConstraint("resolved_at IS NULL OR length(btrim(resolution)) > 0", name="resolved_with_reason"),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    submission_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    filer_name: Mapped[str] = mapped_column(Text)
    filer_officer_id: Mapped[int | None] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[int | None] = mapped_column(BigInteger)
    resolution: Mapped[str | None] = mapped_column(Text)


class Nomination(Base):
    """A recommendation from a unit to the next level in a round (``to_unit_id`` is NULL for
    the Tổng Liên đoàn, which lives in its own tenant)."""

    __tablename__ = "wf_nominations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "round_id", "submission_id", "to_level"),
        ForeignKeyConstraint(["tenant_id", "round_id"], ["wf_rounds.tenant_id", "wf_rounds.id"]),
        ForeignKeyConstraint(["tenant_id", "submission_id"], ["submissions.tenant_id", "submissions.id"]),
        ForeignKeyConstraint(["tenant_id", "from_unit_id"], ["units.tenant_id", "units.id"]),
        ForeignKeyConstraint(["tenant_id", "to_unit_id"], ["units.tenant_id", "units.id"]),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    round_id: Mapped[int] = mapped_column(BigInteger)
    submission_id: Mapped[int] = mapped_column(BigInteger)
    from_unit_id: Mapped[int] = mapped_column(BigInteger)
    to_unit_id: Mapped[int | None] = mapped_column(BigInteger)
    to_level: Mapped[str] = mapped_column(String(32))
    nominated_by: Mapped[int | None] = mapped_column(BigInteger)
    nominated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    over_quota: Mapped[bool] = mapped_column(Boolean, default=False)


class Commendation(Base):
    """Biểu dương by a unit at any level."""

    __tablename__ = "wf_commendations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "submission_id", "unit_id", "round_id"),
        ForeignKeyConstraint(["tenant_id", "submission_id"], ["submissions.tenant_id", "submissions.id"]),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["units.tenant_id", "units.id"]),
        ForeignKeyConstraint(["tenant_id", "round_id"], ["wf_rounds.tenant_id", "wf_rounds.id"]),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    submission_id: Mapped[int] = mapped_column(BigInteger)
    unit_id: Mapped[int] = mapped_column(BigInteger)
    round_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(Text)
    commended_by: Mapped[int | None] = mapped_column(BigInteger)
    commended_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class NationalNomination(Base):
    """The Tổng Liên đoàn's inbox: owned by tenant 999, one row per nominated initiative,
    carrying only its public summary (a trade secret: name, effect and award only)."""

    __tablename__ = "national_nominations"
    __table_args__ = (
        CheckConstraint(f"tenant_id = {NATIONAL_TENANT_ID}", name="national_only"),
        CheckConstraint("status IN ('cho_xet', 'bieu_duong', 'khong_chon')", name="status"),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    source_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    source_submission_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    round_code: Mapped[str] = mapped_column(String(32))
    tracking_code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    field: Mapped[str | None] = mapped_column(String(32))
    summary: Mapped[str | None] = mapped_column(Text)
    benefit: Mapped[str | None] = mapped_column(Text)
    awards: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    author: Mapped[str | None] = mapped_column(Text)
    source_unit_name: Mapped[str | None] = mapped_column(Text)
    trade_secret: Mapped[bool] = mapped_column(Boolean, default=False)
    nominated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="cho_xet")
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
