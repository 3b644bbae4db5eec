"""SQL of the retention job and its settings. Every statement names the tenant, and runs in a
session scoped to it (row-level security)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.review.models import Campaign
from services.review.retention.models import CampaignRetention
from services.review.workflow.models import Deadline, Round


def campaigns(session: Session) -> Sequence[Campaign]:
    return session.scalars(select(Campaign).order_by(Campaign.opens_at, Campaign.id)).all()


def campaign_by_code(session: Session, code: str) -> Campaign | None:
    return session.scalar(select(Campaign).where(Campaign.code == code))


def settings_of(session: Session, tenant_id: int) -> dict[int, CampaignRetention]:
    rows = session.scalars(select(CampaignRetention).where(CampaignRetention.tenant_id == tenant_id))
    return {r.campaign_id: r for r in rows}


def last_deadlines(session: Session, tenant_id: int) -> dict[int, dt.datetime]:
    """The latest deadline of the tenant's rounds, per campaign: its work is over after it."""
    rows = session.execute(
        select(Round.campaign_id, func.max(Deadline.due_at))
        .join(Deadline, (Deadline.tenant_id == Round.tenant_id) & (Deadline.round_id == Round.id))
        .where(Round.tenant_id == tenant_id)
        .group_by(Round.campaign_id)
    )
    return {int(c): d for c, d in rows if d is not None}


def lock_setting(session: Session, tenant_id: int, campaign_id: int) -> CampaignRetention:
    """The tenant's row for the campaign, made if missing, locked for this transaction."""
    session.execute(
        insert(CampaignRetention)
        .values(tenant_id=tenant_id, campaign_id=campaign_id)
        .on_conflict_do_nothing(index_elements=["tenant_id", "campaign_id"])
    )
    row = session.scalar(
        select(CampaignRetention)
        .where(CampaignRetention.tenant_id == tenant_id, CampaignRetention.campaign_id == campaign_id)
        .with_for_update()
    )
    assert row is not None  # inserted above, under this tenant
    return row


# What the job deletes of a submission: who the person is and how to reach them. What the
# statistics and the record of the initiative need stays: unit, campaign, field, group, state,
# dates, tracking code, title, description, effect. ``awards`` are the person's own titles;
# ``import_key`` is a keyed hash over the person's ID number.
_SUBMISSIONS = text(
    """
    UPDATE review.submissions
       SET full_name = '', id_number_enc = NULL, id_number_hash = NULL, phone_enc = NULL, phone_hash = NULL,
           email = NULL, birth_year = NULL, position = NULL, workplace = NULL, awards = NULL, import_key = NULL,
           personal_data_deleted_at = :at
     WHERE tenant_id = :t AND campaign_id = :c AND personal_data_deleted_at IS NULL
    """
)
# The employer's representative who confirmed (a consumed link must keep a name: '' it is).
_CONFIRMATIONS = text(
    """
    UPDATE review.wf_confirmations f
       SET confirmer_name = CASE WHEN f.confirmer_name IS NULL THEN NULL ELSE '' END,
           confirmer_title = CASE WHEN f.confirmer_title IS NULL THEN NULL ELSE '' END
      FROM review.submissions s
     WHERE f.tenant_id = :t AND s.tenant_id = :t AND s.id = f.submission_id AND s.campaign_id = :c
       AND (f.confirmer_name <> '' OR f.confirmer_title <> '')
    """
)
# Who complained and what they wrote (a complaint from the public names its filer, often with
# a way to reach them); the kind, the dates and the resolution stay.
_COMPLAINTS = text(
    """
    UPDATE review.wf_complaints k
       SET filer_name = '', body = ''
      FROM review.submissions s
     WHERE k.tenant_id = :t AND s.tenant_id = :t AND s.id = k.submission_id AND s.campaign_id = :c
       AND (k.filer_name <> '' OR k.body <> '')
    """
)


def delete_personal_data(session: Session, tenant_id: int, campaign_id: int, at: dt.datetime) -> tuple[int, int, int]:
    """(submissions, confirmations, complaints) changed; a second run changes nothing."""
    args = {"t": tenant_id, "c": campaign_id, "at": at}
    counts = [int(session.execute(stmt, args).rowcount or 0) for stmt in (_SUBMISSIONS, _CONFIRMATIONS, _COMPLAINTS)]  # type: ignore[attr-defined]  # CursorResult
    return counts[0], counts[1], counts[2]


def tracking_codes(session: Session, tenant_id: int, campaign_id: int) -> list[str]:
    return list(
        session.scalars(
            text("SELECT tracking_code FROM review.submissions WHERE tenant_id = :t AND campaign_id = :c"),
            {"t": tenant_id, "c": campaign_id},
        )
    )


def mark_purged(session: Session, tenant_id: int, campaign_id: int, *, at: dt.datetime, started: dt.datetime) -> bool:
    """Record the finished run; False when another run finished this campaign since ``started``
    (two runs at once write one record)."""
    stmt = (
        insert(CampaignRetention)
        .values(tenant_id=tenant_id, campaign_id=campaign_id, purged_at=at)
        .on_conflict_do_update(
            index_elements=["tenant_id", "campaign_id"],
            set_={"purged_at": at},
            where=(CampaignRetention.purged_at.is_(None)) | (CampaignRetention.purged_at < started),
        )
        .returning(CampaignRetention.campaign_id)
    )
    return session.execute(stmt).scalar() is not None
