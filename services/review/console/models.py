"""The console's own table (migration 0006): MinHash signatures of descriptions."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, ForeignKeyConstraint
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from services.review.models import Base


class TextSignature(Base):
    """One submission's description as MinHash values and their LSH band keys (see text.py)."""

    __tablename__ = "text_signatures"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "submission_id"], ["submissions.tenant_id", "submissions.id"], ondelete="CASCADE"
        ),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    submission_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    minhash: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    bands: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
