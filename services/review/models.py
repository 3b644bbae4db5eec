"""The review service's tables (schema ``review``).

The organisational tree is data: trees are versioned (2021: 63 provinces with districts;
2025: 34 provinces, district bodies ended), units carry validity dates and a successor link,
and a campaign pins the tree it runs on. ``tenant_id`` leads every tenant-owned key.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA = "review"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA, naming_convention=NAMING)


class TenantKind(StrEnum):
    national = "national"
    province = "province"
    central_sector = "central_sector"


class UnitKind(StrEnum):
    national = "national"  # Tổng Liên đoàn Lao động Việt Nam
    province = "province"  # LĐLĐ tỉnh, thành phố
    central_sector = "central_sector"  # Công đoàn ngành Trung ương và tương đương
    district = "district"  # LĐLĐ huyện, quận, thị xã, thành phố thuộc tỉnh
    provincial_sector = "provincial_sector"  # Công đoàn ngành (Giáo dục, Y tế, …) của tỉnh
    industrial_zone = "industrial_zone"  # Công đoàn các Khu công nghiệp
    grassroots_direct = "grassroots_direct"  # CĐCS trực thuộc LĐLĐ tỉnh
    grassroots = "grassroots"  # Công đoàn cơ sở


UNIT_KIND_LABELS: dict[str, str] = {
    "national": "Tổng Liên đoàn",
    "province": "LĐLĐ tỉnh, thành phố",
    "central_sector": "Công đoàn ngành Trung ương",
    "district": "LĐLĐ huyện, thị xã, thành phố",
    "provincial_sector": "Công đoàn ngành",
    "industrial_zone": "Công đoàn các Khu công nghiệp",
    "grassroots_direct": "CĐCS trực thuộc",
    "grassroots": "Công đoàn cơ sở",
}


class OrgTree(Base):
    """A version of the whole organisational structure (not tenant-owned: it is the frame)."""

    __tablename__ = "org_trees"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("org_trees.id"))
    source: Mapped[str] = mapped_column(Text, default="")
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Tenant(Base):
    """One provincial or central-sector union, or the national confederation. Its id is stable
    across environments (GSO province code; 2xx for central sectors; 999 national)."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"))


class Unit(Base):
    """A union in a tenant's tree (tenant-owned, under row-level security)."""

    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("tenant_id", "tree_id", "code"),
        ForeignKeyConstraint(["tenant_id", "parent_id"], ["units.tenant_id", "units.id"]),
        Index("ix_units_tenant_parent", "tenant_id", "parent_id"),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tree_id: Mapped[int] = mapped_column(ForeignKey("org_trees.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(BigInteger)
    email: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    # The successor may sit in another tenant (a province merged into its neighbour in 2025), so
    # it is a plain reference, not a foreign key that row-level security could not resolve.
    successor_tenant_id: Mapped[int | None] = mapped_column(Integer)
    successor_id: Mapped[int | None] = mapped_column(BigInteger)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")


class Campaign(Base):
    """A national campaign pinned to one org tree. Its window is two instants (timestamptz);
    people read them in Asia/Ho_Chi_Minh."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    tree_id: Mapped[int] = mapped_column(ForeignKey("org_trees.id"))
    opens_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    applied_from: Mapped[dt.date | None] = mapped_column(Date)
    applied_to: Mapped[dt.date | None] = mapped_column(Date)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SubmissionState(StrEnum):
    """Where an initiative is in its tenant's review. Issue #4's workflow adds the later states;
    ``received`` is what the ingester writes."""

    received = "received"


class Submission(Base):
    """An initiative as committed from the ``submissions`` stream, under its tenant.

    The ID number and the phone are stored encrypted (AES-GCM, sealed by intake) beside their
    keyed hashes; nothing here holds them in clear. ``tracking_code`` is unique per tenant, so a
    redelivered stream entry inserts nothing twice.
    """

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "tracking_code"),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["units.tenant_id", "units.id"]),
        Index("ix_submissions_tenant_unit", "tenant_id", "unit_id", "status"),
        Index("ix_submissions_tenant_phone", "tenant_id", "phone_hash"),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(20))
    submission_id: Mapped[str] = mapped_column(String(32))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    unit_id: Mapped[int] = mapped_column(BigInteger)
    full_name: Mapped[str] = mapped_column(Text)
    # None only once the retention job deleted the row's personal data (migration 0007: a CHECK
    # holds every other row whole).
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    idea_group: Mapped[str] = mapped_column(String(16))
    field: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    position: Mapped[str | None] = mapped_column(Text)
    workplace: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    applied_from: Mapped[str | None] = mapped_column(Text)
    benefit: Mapped[str | None] = mapped_column(Text)
    awards: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32), default=SubmissionState.received)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    stream_id: Mapped[str] = mapped_column(String(32))
    # Migration 0006 (the officers' console): where the row came from — 'portal' (the ingester,
    # by default), 'paper' (imported from the console's XLSX), 'demo' (seeded for `make run`);
    # a keyed hash of an imported row (a file uploaded twice inserts nothing twice); and the
    # folded text (no diacritics, lower case) the console's search reads.
    source: Mapped[str] = mapped_column(String(16), default="portal", server_default="portal")
    import_key: Mapped[str | None] = mapped_column(String(64))
    search_text: Mapped[str] = mapped_column(
        Text, Computed("review.fold(full_name || ' ' || title || ' ' || tracking_code)", persisted=True)
    )
    # Migration 0007: when the retention job deleted the personal data (services/review/retention).
    personal_data_deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
