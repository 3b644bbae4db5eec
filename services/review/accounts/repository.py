"""SQL for officers and the units an officer may reach. Functions take a Session (scoped to
the tenant by row-level security) and only flush."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from services.review.accounts.models import OfficerAccount
from services.review.models import OrgTree, Tenant, Unit

# The officer's unit and every unit below it. tenant_id is repeated in the recursive step:
# row-level security already confines the walk, and the index (tenant_id, parent_id) serves it.
_SUBTREE_SQL = text(
    """
    WITH RECURSIVE reach AS (
        SELECT u.id FROM review.units u WHERE u.tenant_id = :tenant_id AND u.id = :unit_id
        UNION
        SELECT c.id FROM review.units c JOIN reach r ON c.tenant_id = :tenant_id AND c.parent_id = r.id
    )
    SELECT id FROM reach
    """
)


def tenant_by_code(session: Session, code: str) -> Tenant | None:
    return session.scalar(select(Tenant).where(Tenant.code == code))


def tenant_by_id(session: Session, tenant_id: int) -> Tenant | None:
    return session.get(Tenant, tenant_id)


def officer_by_username(session: Session, tenant_id: int, username: str) -> OfficerAccount | None:
    return session.scalar(
        select(OfficerAccount).where(OfficerAccount.tenant_id == tenant_id, OfficerAccount.username == username)
    )


def officer_by_id(session: Session, tenant_id: int, officer_id: int) -> OfficerAccount | None:
    return session.get(OfficerAccount, (tenant_id, officer_id))


def officers_in_units(session: Session, tenant_id: int, unit_ids: Iterable[int]) -> Sequence[OfficerAccount]:
    return session.scalars(
        select(OfficerAccount)
        .where(OfficerAccount.tenant_id == tenant_id, OfficerAccount.unit_id.in_(list(unit_ids)))
        .order_by(OfficerAccount.unit_id, OfficerAccount.username)
    ).all()


def add_officer(session: Session, officer: OfficerAccount) -> OfficerAccount:
    session.add(officer)
    session.flush()
    return officer


def touch_login(session: Session, tenant_id: int, officer_id: int, *, at: dt.datetime, new_hash: str | None) -> None:
    values: dict[str, object] = {"last_login_at": at}
    if new_hash is not None:
        values["password_hash"] = new_hash
    session.execute(
        update(OfficerAccount)
        .where(OfficerAccount.tenant_id == tenant_id, OfficerAccount.id == officer_id)
        .values(**values)
    )


def subtree_unit_ids(session: Session, tenant_id: int, unit_id: int) -> list[int]:
    return [int(i) for i in session.scalars(_SUBTREE_SQL, {"tenant_id": tenant_id, "unit_id": unit_id})]


def unit_names(session: Session, tenant_id: int, unit_ids: Iterable[int]) -> dict[str, str]:
    rows = session.execute(select(Unit.code, Unit.name).where(Unit.tenant_id == tenant_id, Unit.id.in_(list(unit_ids))))
    return {str(code): str(name) for code, name in rows}


def unit_by_id(session: Session, tenant_id: int, unit_id: int) -> Unit | None:
    return session.get(Unit, (tenant_id, unit_id))


def units_by_ids(session: Session, tenant_id: int, unit_ids: Iterable[int]) -> Sequence[Unit]:
    return session.scalars(
        select(Unit).where(Unit.tenant_id == tenant_id, Unit.id.in_(list(unit_ids))).order_by(Unit.kind, Unit.name)
    ).all()


def unit_by_code(session: Session, tenant_id: int, tree_code: str, code: str) -> Unit | None:
    return session.scalar(
        select(Unit)
        .join(OrgTree, OrgTree.id == Unit.tree_id)
        .where(Unit.tenant_id == tenant_id, OrgTree.code == tree_code, Unit.code == code)
    )


def first_unit_of_kind(session: Session, tenant_id: int, tree_code: str, kinds: Iterable[str]) -> Unit | None:
    return session.scalar(
        select(Unit)
        .join(OrgTree, OrgTree.id == Unit.tree_id)
        .where(Unit.tenant_id == tenant_id, OrgTree.code == tree_code, Unit.kind.in_(list(kinds)))
        .order_by(Unit.code)
        .limit(1)
    )
