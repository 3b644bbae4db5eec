"""Who may see and do what. An officer sees and acts on their own unit and the units below it,
in their own tenant only: everything else is “not found” (404), never “forbidden”, so that
nobody learns what exists elsewhere. Within what they see, a role that may not do an act
gets 403; an act the unit holding the initiative must do, asked of another unit, gets 409."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.orm import Session

from services.review.accounts.models import ROLE_LABELS, Role
from services.review.accounts.principal import Officer
from services.review.audit import service as audit
from services.review.audit.service import Actor
from services.review.models import Submission, Unit
from services.review.workflow import repository as repo
from services.review.workflow.models import Case
from shared.contracts.submissions import normalize_tracking_code
from shared.errors import Conflict, Forbidden, NotFound

DECIDERS = (Role.chu_tich, Role.quan_tri)
APPRAISERS = (Role.tham_dinh, Role.chu_tich)
EVERYONE = (Role.tham_dinh, Role.chu_tich, Role.quan_tri)


def not_found() -> NotFound:
    return NotFound("Không tìm thấy sáng kiến", field="tracking_code")


def actor(officer: Officer) -> Actor:
    return Actor(officer.id, f"{officer.name} ({officer.login_name}, {ROLE_LABELS[officer.role]})")


def require_role(officer: Officer, roles: tuple[Role, ...]) -> None:
    if officer.role not in roles:
        names = ", ".join(ROLE_LABELS[r] for r in roles)
        raise Forbidden(f"Chức năng này dành cho: {names}")


def sees_unit(session: Session, officer: Officer, unit_id: int) -> bool:
    return officer.unit_id in repo.ancestors(session, officer.tenant_id, unit_id)


def visible_unit(session: Session, officer: Officer, tree_id: int, code: str) -> Unit:
    unit = repo.unit_by_code(session, officer.tenant_id, tree_id, code)
    if unit is None or not sees_unit(session, officer, unit.id):
        raise NotFound("Không tìm thấy đơn vị", field="unit")
    return unit


def find_case(session: Session, officer: Officer, code: str, *, lock: bool = False) -> tuple[Submission, Case]:
    """The submission and its case, if the officer's unit is the one holding it, the one it
    belongs to, or above either of them."""
    normal = normalize_tracking_code(code)
    sub = None if normal is None else repo.submission_by_code(session, officer.tenant_id, normal)
    if sub is None:
        raise not_found()
    case = repo.ensure_case(session, sub, lock=lock)
    if not (sees_unit(session, officer, case.holder_unit_id) or sees_unit(session, officer, case.own_unit_id)):
        raise not_found()
    return sub, case


def require_holder(session: Session, officer: Officer, case: Case) -> None:
    if case.holder_unit_id != officer.unit_id:
        holder = repo.unit(session, case.tenant_id, case.holder_unit_id)
        name = holder.name if holder else "đơn vị khác"
        raise Conflict(f"Sáng kiến đang do {name} xem xét; chỉ đơn vị đó thực hiện được việc này")


def case_for(
    session: Session,
    officer: Officer,
    code: str,
    roles: tuple[Role, ...],
    *,
    holder: bool = False,
    lock: bool = False,
) -> tuple[Submission, Case]:
    """The case an officer acts on, checked in the order the module docstring promises: not
    visible (404) before a role that may not (403) before a unit that does not hold it (409,
    only when ``holder``)."""
    sub, case = find_case(session, officer, code, lock=lock)
    require_role(officer, roles)
    if holder:
        require_holder(session, officer, case)
    return sub, case


def record_act(
    session: Session,
    officer: Officer,
    *,
    action: str,
    entity: str,
    entity_id: str | int,
    before: object = None,
    after: object = None,
    reason: str | None = None,
    subjects: Collection[int] = (),
) -> None:
    """An officer's act into their tenant's audit log (the officer's session is scoped to it);
    ``subjects``: the submissions whose personal data it showed (audit.record)."""
    audit.record(
        session,
        officer.tenant_id,
        actor(officer),
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
        reason=reason,
        subjects=subjects,
    )
