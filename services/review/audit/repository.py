"""SQL of the audit log. Appends are serialised per tenant by a transaction-scoped advisory
lock (the app role may not lock rows of a table it cannot update); the primary key
(tenant_id, seq) would refuse a fork even without it."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from services.review.audit.models import AuditRow

# pg_advisory_xact_lock(key1, key2): key1 names this lock family, key2 is the tenant.
_LOCK_FAMILY = 0x41554454  # "AUDT"


def lock_chain(session: Session, tenant_id: int) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(:f, :t)"), {"f": _LOCK_FAMILY, "t": tenant_id})


def head(session: Session, tenant_id: int) -> tuple[int, bytes] | None:
    row = session.execute(
        select(AuditRow.seq, AuditRow.hash)
        .where(AuditRow.tenant_id == tenant_id)
        .order_by(AuditRow.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row[0]), bytes(row[1]))


def insert(session: Session, row: AuditRow) -> None:
    session.add(row)
    session.flush()


def rows(session: Session, tenant_id: int, *, batch: int = 1000) -> Iterator[AuditRow]:
    """Every row of the tenant's chain in order, read in batches by key (not OFFSET)."""
    last = 0
    while True:
        chunk = session.scalars(
            select(AuditRow)
            .where(AuditRow.tenant_id == tenant_id, AuditRow.seq > last)
            .order_by(AuditRow.seq)
            .limit(batch)
        ).all()
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].seq


def count(session: Session, tenant_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.tenant_id == tenant_id)) or 0)


def for_entity(session: Session, tenant_id: int, entity: str, entity_id: str) -> list[AuditRow]:
    return list(
        session.scalars(
            select(AuditRow)
            .where(AuditRow.tenant_id == tenant_id, AuditRow.entity == entity, AuditRow.entity_id == entity_id)
            .order_by(AuditRow.seq)
        )
    )


# --- whose data an entry showed (audit_subjects) ---------------------------------------------


def add_subjects(session: Session, tenant_id: int, seq: int, submission_ids: Collection[int]) -> None:
    """One statement however many rows an export held."""
    ids = sorted(set(submission_ids))
    if not ids:
        return
    session.execute(
        text(
            "INSERT INTO review.audit_subjects (tenant_id, submission_id, seq) "
            "SELECT :t, s, :seq FROM unnest(CAST(:ids AS bigint[])) AS s"
        ),
        {"t": tenant_id, "seq": seq, "ids": ids},
    )


# A NULL hash matches nothing (= NULL is never true), so one statement serves either kind. With
# the workflow's case, if any: the unit holding it and its own unit decide who sees it.
_PERSON_SQL = text(
    """
    SELECT s.id, s.tracking_code, s.unit_id, s.campaign_id, cs.holder_unit_id, cs.own_unit_id
    FROM (
        SELECT s.id FROM review.campaigns c
        JOIN review.submissions s ON s.tenant_id = :t AND s.campaign_id = c.id AND s.id_number_hash = :h
        UNION
        SELECT s.id FROM review.submissions s WHERE s.tenant_id = :t AND s.phone_hash = :p
    ) p
    JOIN review.submissions s ON s.tenant_id = :t AND s.id = p.id
    LEFT JOIN review.wf_cases cs ON cs.tenant_id = s.tenant_id AND cs.submission_id = s.id
    ORDER BY s.submitted_at, s.id
    """
)


def person_submissions(
    session: Session, tenant_id: int, *, id_number_hash: bytes | None, phone_hash: bytes | None
) -> Sequence[Any]:
    """(id, tracking code, unit, campaign, holder unit, own unit) of the tenant's submissions
    with this ID number or phone. The ID number goes through the duplicate check's index
    (tenant, campaign, hash), probed once per campaign (a handful, tenant-wide), the phone
    through (tenant, phone hash)."""
    if id_number_hash is None and phone_hash is None:
        return []
    return session.execute(_PERSON_SQL, {"t": tenant_id, "h": id_number_hash, "p": phone_hash}).all()


_ENTRIES_SQL = text(
    """
    SELECT x.submission_id, a.seq, a.at, a.actor_id, a.actor, a.action, a.entity, a.entity_id, a.after
    FROM review.audit_subjects x
    JOIN review.audit_log a ON a.tenant_id = x.tenant_id AND a.seq = x.seq
    WHERE x.tenant_id = :t AND x.submission_id = ANY(:ids)
    ORDER BY a.seq DESC, x.submission_id
    LIMIT :limit
    """
)


def entries_about(session: Session, tenant_id: int, submission_ids: Collection[int], *, limit: int) -> Sequence[Any]:
    """The audit entries that showed any of these submissions, newest first, each with the
    submission it showed: the index's key, then the log's primary key."""
    if not submission_ids:
        return []
    return session.execute(_ENTRIES_SQL, {"t": tenant_id, "ids": sorted(set(submission_ids)), "limit": limit}).all()
