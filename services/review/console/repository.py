"""SQL of the console. Every function takes a Session scoped to the officer's tenant (row-level
security) and names the tenant in its predicates too, so each query rides the tenant-led
indexes; functions only flush."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, and_, cast, func, literal_column, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, aliased

from services.review.console.models import TextSignature
from services.review.models import Campaign, OrgTree, Submission, Unit
from services.review.workflow.models import Case, Commendation, Nomination, Score


@dataclass(frozen=True)
class QueueQuery:
    unit_ids: Collection[int]  # the officer's reach, or the one unit the filter chose
    search: str | None = None  # already folded by review.fold in SQL, not here
    field: str | None = None
    group: str | None = None
    status: str | None = None
    campaign_id: int | None = None
    source: str | None = None
    # A round (đợt) of the workflow: the initiatives scored, recommended or commended in it.
    round_id: int | None = None


_ROW_COLUMNS = (
    Submission.id,
    Submission.tracking_code,
    Submission.full_name,
    Submission.title,
    Submission.field,
    Submission.idea_group,
    Submission.status,
    Submission.source,
    Submission.unit_id,
    Submission.campaign_id,
    Submission.submitted_at,
    Unit.name.label("unit_name"),
)


def in_units(tenant_id: int, unit_ids: Collection[int]) -> Any:
    """A submission is at a unit when it landed there or the workflow's case names the unit as
    the one holding it or its own (after routing down to a CĐCS, or a nomination upward)."""
    # A semi-join on a UNION rather than ``unit_id IN … OR EXISTS …``: each branch keeps its
    # tenant-led index (an OR with a correlated subquery would scan the tenant's submissions).
    ids = list(unit_ids)
    s = aliased(Submission)
    landed = select(s.id).where(s.tenant_id == tenant_id, s.unit_id.in_(ids))
    held = select(Case.submission_id).where(
        Case.tenant_id == tenant_id, or_(Case.holder_unit_id.in_(ids), Case.own_unit_id.in_(ids))
    )
    return Submission.id.in_(landed.union(held))


def _in_round(tenant_id: int, round_id: int) -> Any:
    def touched(model: Any) -> Any:
        return (
            select(model.submission_id)
            .where(model.tenant_id == tenant_id, model.round_id == round_id, model.submission_id == Submission.id)
            .exists()
        )

    return or_(touched(Score), touched(Nomination), touched(Commendation))


def _queue_where(tenant_id: int, q: QueueQuery) -> list[Any]:
    where: list[Any] = [Submission.tenant_id == tenant_id, in_units(tenant_id, q.unit_ids)]
    if q.search:
        # LIKE with the folded query, escaped: a user's % or _ means itself.
        pattern = "%" + q.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(Submission.search_text.like(func.review.fold(pattern), escape="\\"))
    if q.field:
        where.append(Submission.field == q.field)
    if q.group:
        where.append(Submission.idea_group == q.group)
    if q.status:
        where.append(Submission.status == q.status)
    if q.campaign_id is not None:
        where.append(Submission.campaign_id == q.campaign_id)
    if q.source:
        where.append(Submission.source == q.source)
    if q.round_id is not None:
        where.append(_in_round(tenant_id, q.round_id))
    return where


def queue_page(session: Session, tenant_id: int, q: QueueQuery, *, limit: int, offset: int) -> Sequence[Any]:
    stmt = (
        select(*_ROW_COLUMNS)
        .join(Unit, and_(Unit.tenant_id == Submission.tenant_id, Unit.id == Submission.unit_id))
        .where(*_queue_where(tenant_id, q))
        .order_by(Submission.submitted_at.desc(), Submission.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return session.execute(stmt).all()


def queue_count(session: Session, tenant_id: int, q: QueueQuery) -> int:
    return int(session.scalar(select(func.count()).select_from(Submission).where(*_queue_where(tenant_id, q))) or 0)


def export_rows(session: Session, tenant_id: int, q: QueueQuery) -> Sequence[Any]:
    """Every row the queue would list for ``q``, oldest first, with the summary table's columns,
    the phone still sealed, the keyed hash of the ID number (to count people, never to show)
    and the workflow's trade-secret mark (its own unit alone sees such a row in full)."""
    stmt = (
        select(
            Submission.id,
            Submission.tracking_code,
            Submission.full_name,
            Submission.birth_year,
            Submission.position,
            Submission.workplace,
            Submission.phone_enc,
            Submission.id_number_hash,
            Submission.title,
            Submission.applied_from,
            Submission.description,
            Submission.benefit,
            Submission.awards,
            Submission.field,
            Submission.idea_group,
            Submission.status,
            Submission.submitted_at,
            Unit.name.label("unit_name"),
            Case.trade_secret,
            Case.own_unit_id,
        )
        .join(Unit, and_(Unit.tenant_id == Submission.tenant_id, Unit.id == Submission.unit_id))
        .outerjoin(Case, and_(Case.tenant_id == Submission.tenant_id, Case.submission_id == Submission.id))
        .where(*_queue_where(tenant_id, q))
        .order_by(Submission.submitted_at, Submission.id)
    )
    return session.execute(stmt).all()


def submission_by_code(session: Session, tenant_id: int, tracking_code: str) -> Submission | None:
    return session.scalar(
        select(Submission).where(Submission.tenant_id == tenant_id, Submission.tracking_code == tracking_code)
    )


# --- duplicates ---------------------------------------------------------------------------------


def same_person(session: Session, tenant_id: int, ids: Collection[int]) -> Sequence[Any]:
    """(id, other id, other's tracking code, other's unit) for each other submission of the
    same campaign with the same ID number or the same phone (keyed hashes: nothing decrypted)."""
    if not ids:
        return []
    s, o = aliased(Submission), aliased(Submission)
    stmt = (
        select(s.id, o.id.label("other_id"), o.tracking_code, o.unit_id)
        .join(
            o,
            and_(
                o.tenant_id == s.tenant_id,
                o.campaign_id == s.campaign_id,
                o.id != s.id,
                or_(o.id_number_hash == s.id_number_hash, o.phone_hash == s.phone_hash),
            ),
        )
        .where(s.tenant_id == tenant_id, s.id.in_(list(ids)))
        .order_by(s.id, o.submitted_at)
    )
    return session.execute(stmt).all()


_NEAR_SQL = text(
    """
    SELECT a.submission_id AS id, b.submission_id AS other_id, o.tracking_code, o.unit_id, m.score
    FROM review.text_signatures a
    JOIN review.text_signatures b
      ON b.tenant_id = a.tenant_id AND b.bands && a.bands AND b.submission_id <> a.submission_id
    JOIN review.submissions o ON o.tenant_id = b.tenant_id AND o.id = b.submission_id
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE x = y)::float8 / cardinality(a.minhash) AS score
        FROM unnest(a.minhash, b.minhash) AS u(x, y)
    ) m
    WHERE a.tenant_id = :tenant_id AND a.submission_id = ANY(:ids) AND m.score >= :threshold
    ORDER BY a.submission_id, m.score DESC
    """
)


def near_duplicates(session: Session, tenant_id: int, ids: Collection[int], threshold: float) -> Sequence[Any]:
    """(id, other id, other's code, other's unit, estimated similarity) across the tenant."""
    if not ids:
        return []
    return session.execute(_NEAR_SQL, {"tenant_id": tenant_id, "ids": list(ids), "threshold": threshold}).all()


def unsigned(session: Session, tenant_id: int, *, limit: int) -> Sequence[Any]:
    """Submissions of the tenant whose description has no signature yet (the ingester COPYs rows
    without one), oldest first."""
    stmt = (
        select(Submission.id, Submission.description)
        .outerjoin(
            TextSignature,
            and_(TextSignature.tenant_id == Submission.tenant_id, TextSignature.submission_id == Submission.id),
        )
        .where(Submission.tenant_id == tenant_id, TextSignature.submission_id.is_(None))
        .order_by(Submission.id)
        .limit(limit)
    )
    return session.execute(stmt).all()


def add_signatures(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(pg_insert(TextSignature).values(list(rows)).on_conflict_do_nothing())


# --- units, campaigns ---------------------------------------------------------------------------


def units(session: Session, tenant_id: int, ids: Collection[int]) -> Sequence[Unit]:
    if not ids:
        return []
    return session.scalars(select(Unit).where(Unit.tenant_id == tenant_id, Unit.id.in_(list(ids)))).all()


def children(session: Session, tenant_id: int, parent_id: int) -> Sequence[Unit]:
    stmt = select(Unit).where(Unit.tenant_id == tenant_id, Unit.parent_id == parent_id).order_by(Unit.code)
    return session.scalars(stmt).all()


def campaigns(session: Session) -> Sequence[Campaign]:
    return session.scalars(select(Campaign).order_by(Campaign.opens_at.desc())).all()


def campaign_by_code(session: Session, code: str) -> Campaign | None:
    return session.scalar(select(Campaign).where(Campaign.code == code))


def campaign_by_id(session: Session, campaign_id: int) -> Campaign | None:
    return session.get(Campaign, campaign_id)


def tree_by_code(session: Session, code: str) -> OrgTree | None:
    return session.scalar(select(OrgTree).where(OrgTree.code == code))


# The day a person in Vietnam says an initiative was sent. The zone is a literal, not a bound
# parameter: the expression must read the same in SELECT and GROUP BY.
_VN_DAY = cast(func.timezone(literal_column("'Asia/Ho_Chi_Minh'"), Submission.submitted_at), Date)


@dataclass(frozen=True)
class Breakdown:
    by_unit: dict[int, int]  # the unit each initiative was submitted to
    by_field: dict[str, int]
    by_group: dict[str, int]
    by_day: dict[dt.date, int]  # Asia/Ho_Chi_Minh


def breakdown(session: Session, tenant_id: int, unit_ids: Collection[int], campaign_id: int) -> Breakdown:
    """Initiatives of one campaign submitted to these units, counted per unit, field, group and
    day in one pass over the rows (GROUPING SETS: one index scan on (tenant, unit), one hash
    aggregate; ~0.1 s for 100,000 rows). Each result row carries exactly one non-null key, the
    set it belongs to (none of the four columns can be NULL in the table)."""
    out = Breakdown({}, {}, {}, {})
    if not unit_ids:
        return out
    stmt = (
        select(Submission.unit_id, Submission.field, Submission.idea_group, _VN_DAY.label("day"), func.count())
        .where(
            Submission.tenant_id == tenant_id,
            Submission.unit_id.in_(list(unit_ids)),
            Submission.campaign_id == campaign_id,
        )
        .group_by(func.grouping_sets(Submission.unit_id, Submission.field, Submission.idea_group, _VN_DAY))
    )
    for unit_id, field_, group, day, n in session.execute(stmt).all():
        if unit_id is not None:
            out.by_unit[int(unit_id)] = int(n)
        elif field_ is not None:
            out.by_field[field_] = int(n)
        elif group is not None:
            out.by_group[group] = int(n)
        elif day is not None:
            out.by_day[day] = int(n)
    return out


def tenant_total(session: Session, tenant_id: int, campaign_id: int) -> int:
    stmt = select(func.count()).where(Submission.tenant_id == tenant_id, Submission.campaign_id == campaign_id)
    return int(session.scalar(stmt) or 0)


# --- writing submissions (paper import, demo) ---------------------------------------------------


def insert_submission(session: Session, values: dict[str, Any]) -> int | None:
    """Insert one submission; None when its import key is already there (a re-upload)."""
    stmt = (
        pg_insert(Submission)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["tenant_id", "import_key"], index_where=literal_column("import_key IS NOT NULL")
        )
        .returning(Submission.id)
    )
    new_id = session.scalar(stmt)
    return int(new_id) if new_id is not None else None


def existing_submission_ids(session: Session, tenant_id: int, submission_ids: Collection[str]) -> set[str]:
    stmt = select(Submission.submission_id).where(
        Submission.tenant_id == tenant_id, Submission.submission_id.in_(list(submission_ids))
    )
    return set(session.scalars(stmt))


def add_unit(session: Session, unit: Unit) -> Unit:
    session.add(unit)
    session.flush()
    return unit


def unit_by_code(session: Session, tenant_id: int, tree_id: int, code: str) -> Unit | None:
    return session.scalar(select(Unit).where(Unit.tenant_id == tenant_id, Unit.tree_id == tree_id, Unit.code == code))
