"""What each unit owes by each deadline (shared/contracts/obligations.py): notify plans its
reminders from it, so the answer follows the workflow's own rules rather than a copy of them.

* A deadline of an open round says nominations *arriving* at its level are due; the units that
  owe are those of the level just below (the one ``service.next_level`` sends up to it), of the
  kinds that level lists, in the campaign's tree, within the deadline's scope when it has one.
* A unit answers to the earliest deadline of the round and level that covers it — the one the
  workflow checks a nomination against (``service.due_at``). A unit that an earlier deadline
  covers is not listed under a later one: reminding Hà Quảng's CĐCS of a province-wide date
  after their own 12/4 would tell them they still have time when their nominations are late.
* ``used`` is the round's quota counter (what the console shows as “đã chọn”); the bounds are the
  quota rules that cover the unit (``quotas.RoundRules``, read once for the whole round); done
  means at least the minimum, or at least one where the rules set none.

Cost: per deadline one statement for its units with their parents, and one for its scope's
subtree; per round its counters, its levels, rules and the subtrees of scoped rules; per round
and level its other deadlines.
Nothing per unit, so a province with thousands of CĐCS is still a handful of queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from services.review.models import Campaign
from services.review.workflow import obligations_repository as orepo
from services.review.workflow import repository as repo
from services.review.workflow.models import Deadline, Level, Round
from services.review.workflow.quotas import RoundRules, max_of, min_of
from shared.contracts.obligations import DeadlineDue, ObligationsOut, UnitDue
from shared.errors import InvalidInput
from shared.timeutil import VN_TZ

MAX_WINDOW = dt.timedelta(days=60)
CONSOLE_PAGE = "/console/de-cu"
_EXAMPLE = "2021-04-16T00:00:00+07:00"


# --- the window ------------------------------------------------------------------------------


def parse_window(due_from: str | None, due_to: str | None) -> tuple[dt.datetime, dt.datetime]:
    """[due_from, due_to) from the query string: two instants with their offset, due_to after
    due_from, at most MAX_WINDOW apart (a caller cannot make one request read a whole year)."""
    start = _instant("due_from", due_from)
    end = _instant("due_to", due_to)
    if end <= start:
        raise InvalidInput("due_to phải là thời điểm sau due_from", field="due_to")
    if end - start > MAX_WINDOW:
        raise InvalidInput(
            f"Khoảng thời gian từ due_from đến due_to không được dài quá {MAX_WINDOW.days} ngày", field="due_to"
        )
    return start, end


def _instant(name: str, raw: str | None) -> dt.datetime:
    if raw is None or not raw.strip():
        raise InvalidInput(f"Thiếu tham số {name} (thời điểm ISO 8601 có múi giờ, ví dụ {_EXAMPLE})", field=name)
    text = raw.strip()
    readings = [text]
    if " " in text:
        # A "+07:00" typed into a URL unencoded arrives as " 07:00" (a plus is a space there).
        head, _, tail = text.rpartition(" ")
        readings.append(f"{head}+{tail}")
    for candidate in readings:
        try:
            value = dt.datetime.fromisoformat(candidate)
        except ValueError:
            continue
        # An instant needs its offset: "16/4 at midnight" is 7 hours apart in Hà Nội and in UTC.
        if value.utcoffset() is not None:
            return value
    raise InvalidInput(f"{name} phải là thời điểm ISO 8601 có múi giờ, ví dụ {_EXAMPLE}", field=name)


# --- the answer ------------------------------------------------------------------------------


def obligations(session: Session, tenant_id: int, due_from: dt.datetime, due_to: dt.datetime) -> ObligationsOut:
    """Every deadline of the session's tenant due in [due_from, due_to) in an open round, each
    with every unit that owes by it, done or not."""
    reader = _Reader(session, tenant_id)
    found = orepo.deadlines_due(session, tenant_id, due_from, due_to)
    return ObligationsOut(
        tenant_id=tenant_id, deadlines=[reader.deadline_due(d, rnd, campaign) for d, rnd, campaign in found]
    )


def last_day(due_at: dt.datetime) -> dt.date:
    """The last day, in Vietnam, on which a nomination is on time ("đến ngày 16/4" is due at
    00:00 on 17/4: its last day is the 16th)."""
    return (due_at.astimezone(VN_TZ) - dt.timedelta(microseconds=1)).date()


class _Reader:
    """What several deadlines of one request share, read once: a round's rules, a round and
    level's deadlines, a scope's subtree."""

    def __init__(self, session: Session, tenant_id: int) -> None:
        self.s = session
        self.tenant_id = tenant_id
        self._rules: dict[int, RoundRules] = {}
        self._used: dict[int, dict[int, int]] = {}
        self._rivals: dict[tuple[int, str], list[Deadline]] = {}
        self._subtrees: dict[int, frozenset[int]] = {}

    def rules(self, rnd: Round) -> RoundRules:
        if rnd.id not in self._rules:
            self._rules[rnd.id] = RoundRules(self.s, self.tenant_id, rnd)
        return self._rules[rnd.id]

    def used(self, round_id: int) -> dict[int, int]:
        if round_id not in self._used:
            self._used[round_id] = orepo.used_in_round(self.s, self.tenant_id, round_id)
        return self._used[round_id]

    def subtree(self, unit_id: int) -> frozenset[int]:
        if unit_id not in self._subtrees:
            self._subtrees[unit_id] = frozenset(repo.subtree(self.s, self.tenant_id, unit_id))
        return self._subtrees[unit_id]

    def covered_earlier(self, deadline: Deadline) -> frozenset[int] | None:
        """Units an earlier deadline of the same round and level covers; None: all of them (an
        earlier one has no scope)."""
        key = (deadline.round_id, deadline.level_code)
        if key not in self._rivals:
            self._rivals[key] = repo.deadlines(self.s, self.tenant_id, deadline.round_id, deadline.level_code)
        earlier = [d for d in self._rivals[key] if (d.due_at, d.id) < (deadline.due_at, deadline.id)]
        if any(d.scope_unit_id is None for d in earlier):
            return None
        return frozenset().union(*(self.subtree(d.scope_unit_id) for d in earlier if d.scope_unit_id is not None))

    def deadline_due(self, deadline: Deadline, rnd: Round, campaign: Campaign) -> DeadlineDue:
        known = self.rules(rnd)
        target, below = _target_and_below(known.levels, deadline.level_code)
        units: list[UnitDue] = []
        covered = self.covered_earlier(deadline)
        if below is not None and covered is not None:
            path = f"{CONSOLE_PAGE}?" + urlencode({"chuong_trinh": campaign.code, "dot": rnd.code})
            rows = orepo.owing_units(
                self.s,
                self.tenant_id,
                tree_id=campaign.tree_id,
                kinds=below.unit_kinds,
                within=None if deadline.scope_unit_id is None else self.subtree(deadline.scope_unit_id),
                # The demo campaign replays the 2021 tree at today's dates (seed._shift moves its
                # deadlines the same way): that tree's 2025 reform is not the demo's to apply.
                valid_on=None if campaign.is_demo else last_day(deadline.due_at),
            )
            used = self.used(rnd.id)
            for row in rows:
                if row.unit_id in covered:
                    continue
                n = used.get(row.unit_id, 0)
                rules = known.rules_for(below.code, row.unit_id)
                lo, hi = min_of(rules), max_of(rules)
                units.append(
                    UnitDue(
                        unit_code=row.code,
                        unit_name=row.name,
                        email=row.email,
                        parent_code=row.parent_code,
                        parent_name=row.parent_name,
                        parent_email=row.parent_email,
                        used=n,
                        min_count=lo,
                        max_count=hi,
                        fulfilled=n >= (lo if lo is not None else 1),
                        console_path=path,
                    )
                )
        return DeadlineDue(
            deadline_id=deadline.id,
            campaign_code=campaign.code,
            campaign_name=campaign.name,
            round_code=rnd.code,
            round_name=rnd.name,
            level_code=deadline.level_code,
            level_name=target.name if target is not None else deadline.level_code,
            due_at=deadline.due_at,
            units=units,
        )


def _target_and_below(levels: Sequence[Level], code: str) -> tuple[Level | None, Level | None]:
    """The deadline's level and the one just below it in the campaign's order (None: the level
    is not configured, or it is the lowest and nobody nominates up to it)."""
    target = next((lv for lv in levels if lv.code == code), None)
    if target is None:
        return None, None
    below = [lv for lv in levels if lv.ordinal < target.ordinal]
    return target, max(below, key=lambda lv: lv.ordinal) if below else None
