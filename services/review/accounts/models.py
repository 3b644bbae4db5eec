"""The officers table (migration 0004), on review's metadata so that Alembic sees it."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.review.models import Base


class Role(StrEnum):
    tham_dinh = "tham_dinh"  # cán bộ thẩm định: appraises initiatives
    chu_tich = "chu_tich"  # chủ tịch / phó chủ tịch: decides nominations and signs
    quan_tri = "quan_tri"  # quản trị: configures the tenant's workflow and its accounts


ROLE_LABELS: dict[str, str] = {
    Role.tham_dinh: "Cán bộ thẩm định",
    Role.chu_tich: "Chủ tịch, Phó Chủ tịch",
    Role.quan_tri: "Quản trị",
}


class OfficerAccount(Base):
    """A person who signs in to the console, in one tenant, attached to one unit of its tree.
    ``username`` is unique within the tenant; people sign in as ``username@<tenant code>``."""

    __tablename__ = "officers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "username"),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["units.tenant_id", "units.id"]),
        CheckConstraint("role IN ('tham_dinh', 'chu_tich', 'quan_tri')", name="role"),
        CheckConstraint("username = lower(username)", name="username_lower"),
        Index("ix_officers_tenant_unit", "tenant_id", "unit_id"),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    unit_id: Mapped[int] = mapped_column(BigInteger)
    username: Mapped[str] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
