"""SQL of the reporting service. Every query runs in a session whose transaction is scoped to
one tenant (row-level security); ``tenant_id`` is also named in each query so that the plans
use the keys it leads."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.reporting.models import DossierJob


def add_job(session: Session, values: dict[str, Any]) -> tuple[DossierJob, bool]:
    """The job for this content, and whether it is new (the unique content hash makes two
    officers clicking at once one job, not two)."""
    stmt = (
        insert(DossierJob)
        .values(id=uuid.uuid4(), **values)
        .on_conflict_do_nothing(index_elements=["tenant_id", "content_hash"])
        .returning(DossierJob.id)
    )
    inserted = session.execute(stmt).scalar() is not None
    job = session.scalar(
        select(DossierJob).where(
            DossierJob.tenant_id == values["tenant_id"], DossierJob.content_hash == values["content_hash"]
        )
    )
    assert job is not None  # inserted now or before, and visible under this tenant
    return job, inserted


def job(session: Session, tenant_id: int, job_id: uuid.UUID) -> DossierJob | None:
    return session.scalar(select(DossierJob).where(DossierJob.tenant_id == tenant_id, DossierJob.id == job_id))


def claim(session: Session, tenant_id: int, job_id: uuid.UUID) -> DossierJob | None:
    """The job's row locked for this transaction, or None when another worker holds it (a task
    redelivered while the first run still renders: it must not render the same job at once)."""
    return session.scalar(
        select(DossierJob)
        .where(DossierJob.tenant_id == tenant_id, DossierJob.id == job_id)
        .with_for_update(skip_locked=True)
    )


def exists(session: Session, tenant_id: int, job_id: uuid.UUID) -> bool:
    return job(session, tenant_id, job_id) is not None


def jobs_of_round(session: Session, tenant_id: int, campaign: str, round_code: str) -> Sequence[DossierJob]:
    return session.scalars(
        select(DossierJob)
        .where(
            DossierJob.tenant_id == tenant_id,
            DossierJob.campaign_code == campaign,
            DossierJob.round_code == round_code,
        )
        .order_by(DossierJob.created_at.desc(), DossierJob.unit_code)
        .limit(1000)
    ).all()


def set_state(session: Session, tenant_id: int, job_id: uuid.UUID, **values: Any) -> None:
    session.execute(
        update(DossierJob).where(DossierJob.tenant_id == tenant_id, DossierJob.id == job_id).values(**values)
    )


def start(session: Session, tenant_id: int, job_id: uuid.UUID, at: dt.datetime) -> None:
    session.execute(
        update(DossierJob)
        .where(DossierJob.tenant_id == tenant_id, DossierJob.id == job_id, DossierJob.state != "done")
        .values(state="rendering", attempts=DossierJob.attempts + 1, started_at=at, error=None)
    )


def delete_jobs_of_campaign(session: Session, tenant_id: int, campaign: str) -> int:
    """A render in progress holds its job's row: the DELETE waits for it, so no render of this
    campaign writes an object after the purge has listed them."""
    result = session.execute(
        delete(DossierJob).where(DossierJob.tenant_id == tenant_id, DossierJob.campaign_code == campaign)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # a CursorResult for DML
