"""The retention of a campaign's personal data, per tenant (migration 0007)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from services.review.models import Base


class CampaignRetention(Base):
    """No row, or ``retain_until`` NULL: the default date (service.default_until)."""

    __tablename__ = "campaign_retention"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    retain_until: Mapped[dt.date | None] = mapped_column(Date)
    set_by: Mapped[int | None] = mapped_column(BigInteger)
    set_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    purged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
