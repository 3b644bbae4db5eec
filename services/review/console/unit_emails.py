"""The units' contact addresses (“Đơn vị”, /console/don-vi): the address notify sends each unit's
deadline reminders to, and its parent's escalations (``review.units.email``). A quản trị sees and
edits the units of their own unit's subtree; no FastAPI here, functions only flush.

Who, in the order of workflow.access: a unit outside the officer's subtree — another tenant's
(row-level security hides it) or a sibling's or the parent's — is “not found” (404) before a role
other than quản trị is refused (403). Every change goes to the audit log from what to what: the
address is an office's mailbox, not a person's data, so it is written there in clear."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.console import unit_repository as repo
from services.review.console.text import words
from services.review.models import UNIT_KIND_LABELS, Unit
from services.review.workflow import repository as wf_repo
from services.review.workflow.access import record_act, require_role
from shared.contracts.submission_fields import EMAIL, EMAIL_MAX, EMAIL_RULE, too_long
from shared.errors import InvalidInput, NotFound

FIELD = "Địa chỉ email của đơn vị"
UNIT_NOT_FOUND = "Không tìm thấy đơn vị"
PAGE_SIZE = 50
MAX_WORDS = 8
# One mailbox, nothing more: the shared rule lets these through in the local part or after the
# last dot, and each would make the To header of a reminder a list, a display name or a route.
_NOT_ONE_ADDRESS = re.compile(r"[,;:<>()\[\]\"'\\]")


class Change(StrEnum):
    saved = "luu"
    cleared = "xoa"
    unchanged = "khong-doi"


@dataclass(frozen=True)
class UnitRow:
    id: int
    code: str
    name: str
    kind_label: str
    email: str
    children: int
    parent_name: str | None = None  # search results only: where the unit sits


@dataclass(frozen=True)
class Crumb:
    id: int
    name: str


@dataclass(frozen=True)
class UnitsView:
    current: UnitRow
    trail: list[Crumb]  # from the officer's unit down to the current unit's parent
    rows: list[UnitRow]  # the current unit's children, or what the search found below it
    total: int
    page: int
    pages: int
    search: str
    searching: bool
    at_own_unit: bool


def parse_email(raw: str) -> str | None:
    """The address as stored: trimmed, lower case; None (no address) for a blank field."""
    value = raw.strip().lower()
    if not value:
        return None
    if len(value) > EMAIL_MAX:
        raise InvalidInput(f"{FIELD} {too_long(EMAIL_MAX, len(value))}", field="email")
    # ASCII only: notify's SMTP client speaks no SMTPUTF8, and “congđoan.vn” is a slip of a
    # Vietnamese keyboard far more often than an internationalised domain.
    if not value.isascii() or not EMAIL.match(value) or _NOT_ONE_ADDRESS.search(value):
        raise InvalidInput(f"{FIELD} {EMAIL_RULE}", field="email")
    return value


def _trail(session: Session, officer: Officer, unit_id: int) -> list[int] | None:
    """The ids from the officer's unit down to ``unit_id``; None when it is not below them."""
    up = wf_repo.ancestors(session, officer.tenant_id, unit_id)
    if officer.unit_id not in up:
        return None
    return list(reversed(up[: up.index(officer.unit_id) + 1]))


def _unit_in_reach(session: Session, officer: Officer, unit_id: int) -> tuple[Unit, list[int]]:
    trail = _trail(session, officer, unit_id)
    unit = wf_repo.unit(session, officer.tenant_id, unit_id) if trail is not None else None
    if unit is None or trail is None:
        raise NotFound(UNIT_NOT_FOUND, field="unit")
    return unit, trail


def _row(unit: Unit, children: int, parent_name: str | None = None) -> UnitRow:
    return UnitRow(
        id=unit.id,
        code=unit.code,
        name=unit.name,
        kind_label=UNIT_KIND_LABELS.get(unit.kind, unit.kind),
        email=unit.email or "",
        children=children,
        parent_name=parent_name,
    )


def units_view(session: Session, officer: Officer, unit_id: int | None, search: str, page: int) -> UnitsView:
    """A unit of the officer's subtree (their own by default) and, a page at a time, its direct
    children — or, with a search, the units of its subtree whose name, code or address holds
    every word, accents and case aside (“ha quang” finds “Hà Quảng”)."""
    unit, trail = _unit_in_reach(session, officer, officer.unit_id if unit_id is None else unit_id)
    require_role(officer, (Role.quan_tri,))
    terms = words(search)[:MAX_WORDS]

    def fetch(page: int) -> tuple[list[tuple[Unit, str | None]], int]:
        offset = (page - 1) * PAGE_SIZE
        if terms:
            hits, total = repo.search(session, officer.tenant_id, unit.id, terms, limit=PAGE_SIZE, offset=offset)
            return [(f.unit, f.parent_name) for f in hits], total
        kids, total = repo.children_page(session, officer.tenant_id, unit.id, limit=PAGE_SIZE, offset=offset)
        return [(k, None) for k in kids], total

    page = max(page, 1)
    found, total = fetch(page)
    if not found and total:  # past the last page (an old link, a unit removed): show the last one
        page = math.ceil(total / PAGE_SIZE)
        found, total = fetch(page)
    counts = repo.child_counts(session, officer.tenant_id, [unit.id, *(u.id for u, _ in found)])
    names = wf_repo.units_by_ids(session, officer.tenant_id, trail[:-1])
    return UnitsView(
        current=_row(unit, counts.get(unit.id, 0)),
        trail=[Crumb(i, names[i].name) for i in trail[:-1] if i in names],
        rows=[_row(u, counts.get(u.id, 0), p) for u, p in found],
        total=total,
        page=page,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        search=search.strip(),
        searching=bool(terms),
        at_own_unit=unit.id == officer.unit_id,
    )


def set_email(session: Session, officer: Officer, unit_id: int, raw: str) -> Change:
    """Set (or, blank, clear) a unit's address; audited when it changes."""
    _unit_in_reach(session, officer, unit_id)
    require_role(officer, (Role.quan_tri,))
    email = parse_email(raw)
    unit = repo.lock_unit(session, officer.tenant_id, unit_id)
    if unit is None:  # removed since the reach was read
        raise NotFound(UNIT_NOT_FOUND, field="unit")
    before = unit.email or None
    if before == email:
        return Change.unchanged
    repo.set_email(session, unit, email)
    record_act(
        session,
        officer,
        action="sua_email_don_vi",
        entity="unit",
        entity_id=unit_id,
        before={"email": before},
        after={"email": email, "code": unit.code},
    )
    return Change.saved if email else Change.cleared
