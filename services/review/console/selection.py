"""What the console shows of selection (xét chọn): the panel on an initiative's page (routing,
appraisal, conditions, employer's confirmation, complaints, quota, nomination, commendation)
and the “Đề cử” page (a unit's candidates in a round against its quota). No FastAPI; reads
only — the acts are the workflow's own functions (services/review/workflow), called by the
pages, so the rules (roles, holder, quota in the database) are enforced in one place.

What a button offers is only a convenience: the workflow refuses anything the officer may not
do, and the page shows its message."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.audit import service as audit
from services.review.console import repository as console_repo
from services.review.console import selection_repository as repo
from services.review.console.service import Option
from services.review.models import Submission, Unit
from services.review.workflow import appraisal, nominations, service
from services.review.workflow import repository as wf_repo
from services.review.workflow.access import APPRAISERS, DECIDERS, find_case, sees_unit
from services.review.workflow.models import COMPLAINT_KIND_LABELS, Case, Criterion, Level, Round
from services.review.workflow.schemas import QuotaRowOut, RankedOut
from shared.errors import InvalidInput, NotFound
from shared.timeutil import format_vn, local, now

NATIONAL = "Tổng Liên đoàn Lao động Việt Nam"
ROUND_NOT_FOUND = "Không tìm thấy đợt xét chọn"
CANDIDATES_SHOWN = 100


def when_text(instant: dt.datetime) -> str:
    return f"{local(instant):%H:%M %d/%m/%Y}"


def decimal_text(x: Decimal | None) -> str | None:
    return None if x is None else f"{x:.2f}".replace(".", ",")


# --- pieces shown on both pages ----------------------------------------------------------------


@dataclass(frozen=True)
class RoundChoice:
    code: str
    name: str
    closed: bool


@dataclass(frozen=True)
class QuotaView:
    used: int
    max_count: int | None
    min_count: int | None
    extra: int
    full: bool
    below_minimum: bool

    @property
    def text(self) -> str:
        if self.max_count is None:
            return f"đã chọn {self.used}"
        return f"đã chọn {self.used}/{self.max_count + self.extra}"

    @property
    def min_text(self) -> str | None:
        return None if self.min_count is None else f"cần ít nhất {self.min_count}"


@dataclass(frozen=True)
class Condition:
    label: str
    detail: str | None


@dataclass(frozen=True)
class ConfirmationView:
    confirmed: bool
    text: str


@dataclass(frozen=True)
class ComplaintView:
    kind_label: str
    filed_at: str
    body: str


def quota_view(row: QuotaRowOut | None) -> QuotaView | None:
    if row is None:
        return None
    return QuotaView(row.used, row.max_count, row.min_count, row.extra, row.full, row.below_minimum)


def round_choices(rounds: Sequence[Round]) -> list[RoundChoice]:
    return [RoundChoice(r.code, r.name, r.closed_at is not None) for r in rounds]


def current_round(rounds: Sequence[Round], code: str | None) -> Round | None:
    """The round asked for, else the first still open, else the last one."""
    if code:
        for r in rounds:
            if r.code == code:
                return r
        raise NotFound(ROUND_NOT_FOUND, field="round")
    still_open = [r for r in rounds if r.closed_at is None]
    return still_open[0] if still_open else (rounds[-1] if rounds else None)


def confirmation_view(session: Session, tenant_id: int, submission_id: int) -> ConfirmationView:
    done = wf_repo.latest_confirmed(session, tenant_id, submission_id)
    if done is not None:
        since = f" — áp dụng từ {done.applied_on:%d/%m/%Y}" if done.applied_on else ""
        return ConfirmationView(True, f"Đã xác nhận: {done.confirmer_name}, {done.confirmer_title}{since}")
    waiting = repo.pending_link(session, tenant_id, submission_id, now())
    if waiting is not None:
        return ConfirmationView(False, f"Đã tạo đường dẫn, chờ xác nhận (hết hạn {format_vn(waiting.expires_at)})")
    return ConfirmationView(False, "Chưa có xác nhận của người sử dụng lao động, thủ trưởng đơn vị")


def next_step(levels: Sequence[Level], unit: Unit, rnd: Round) -> tuple[Level | None, Level | None, str | None]:
    """(the unit's level, the level it recommends to, why it recommends nowhere in this round)."""
    mine = next((lv for lv in levels if unit.kind in lv.unit_kinds), None)
    if mine is None:
        return None, None, f"Chưa cấu hình cấp xét chọn cho {unit.name}"
    above = [lv for lv in levels if lv.ordinal > mine.ordinal]
    if not above:
        return mine, None, f"{unit.name} là cấp xét chọn cao nhất"
    top = next((lv for lv in levels if lv.code == rnd.top_level), None)
    if top is not None and above[0].ordinal > top.ordinal:
        return mine, None, f"Trong {rnd.name}, {mine.name} chỉ biểu dương, không giới thiệu lên cấp trên"
    return mine, above[0], None


def failing_conditions(
    session: Session, sub: Submission, case: Case, rnd: Round, target: Level, holder_id: int
) -> list[Condition]:
    """The conditions the nomination would fail now, as the workflow checks them."""
    found = service.check_validity(
        session, sub, case, at=now(), due=service.due_at(session, sub, case, rnd, target.code)
    )
    out = [Condition(f.label, f.detail) for f in found]
    if not appraisal.has_complete_appraisal(session, sub, rnd, holder_id):
        out.append(Condition("Đã được thẩm định", "chưa có cán bộ nào chấm đủ các tiêu chí"))
    return out


# --- the panel on an initiative's page ---------------------------------------------------------


@dataclass(frozen=True)
class CriterionRow:
    code: str
    name: str
    weight: str
    max_score: int
    mine: str  # the officer's own score, as the input shows it
    mean: str | None  # over the appraisers who scored it


@dataclass(frozen=True)
class AppraiserRow:
    name: str
    mean: str | None  # None: not every criterion scored yet
    comment: str | None
    is_me: bool


@dataclass(frozen=True)
class Panel:
    campaign_code: str
    rounds: list[RoundChoice]
    round: RoundChoice | None
    holder_code: str
    holder_name: str
    own_name: str
    holder_is_mine: bool
    children: list[Option] = field(default_factory=list)
    kept: bool = False
    criteria: list[CriterionRow] = field(default_factory=list)
    my_comment: str = ""
    appraisers: list[AppraiserRow] = field(default_factory=list)
    mean: str | None = None
    rank: int | None = None
    ranked: int = 0
    tie_break: str | None = None
    can_score: bool = False
    score_note: str | None = None
    target_name: str | None = None
    stop_note: str | None = None
    already_sent: bool = False
    failures: list[Condition] = field(default_factory=list)
    confirmation: ConfirmationView | None = None
    can_link: bool = False
    complaints: list[ComplaintView] = field(default_factory=list)
    quota: QuotaView | None = None
    can_nominate: bool = False
    can_commend: bool = False
    commended: bool = False
    can_override: bool = False
    nominations: list[str] = field(default_factory=list)


def _criteria_rows(
    criteria: Sequence[Criterion], sheets: Mapping[int, Mapping[str, Decimal]], me: int
) -> list[CriterionRow]:
    rows = []
    for c in criteria:
        given = [s[c.code] for s in sheets.values() if c.code in s]
        mean = sum(given, Decimal(0)) / len(given) if given else None
        mine = sheets.get(me, {}).get(c.code)
        rows.append(
            CriterionRow(
                code=c.code,
                name=c.name,
                weight=f"{Decimal(c.weight).normalize():f}",
                max_score=c.max_score,
                mine="" if mine is None else f"{mine.normalize():f}".replace(".", ","),
                mean=decimal_text(mean),
            )
        )
    return rows


def panel(session: Session, officer: Officer, code: str, round_code: str | None) -> Panel:
    """Everything the detail page shows and offers about selection in one round."""
    sub, case = find_case(session, officer, code)
    tenant = officer.tenant_id
    units = wf_repo.units_by_ids(session, tenant, [case.holder_unit_id, case.own_unit_id])
    holder, own = units[case.holder_unit_id], units[case.own_unit_id]
    mine = case.holder_unit_id == officer.unit_id
    deciding = officer.role in DECIDERS
    children = []
    if mine and deciding and case.holder_unit_id == case.own_unit_id:
        children = [Option(u.code, u.name) for u in console_repo.children(session, tenant, holder.id)]
    kept = any(r.action == "giu_lai" for r in audit.history(session, tenant, "submission", sub.id))
    rounds = wf_repo.rounds(session, tenant, sub.campaign_id)
    campaign = wf_repo.campaign(session, sub.campaign_id)
    base = Panel(
        campaign_code=campaign.code if campaign else "",
        rounds=round_choices(rounds),
        round=None,
        holder_code=holder.code,
        holder_name=holder.name,
        own_name=own.name,
        holder_is_mine=mine,
        children=children,
        kept=kept,
        nominations=_sent_lines(session, tenant, sub, rounds),
    )
    rnd = current_round(rounds, round_code)
    if rnd is None:
        return base
    open_round = rnd.closed_at is None

    criteria = wf_repo.criteria(session, tenant, sub.campaign_id)
    sheets: dict[int, dict[str, Decimal]] = {}
    comments: dict[int, str | None] = {}
    result = appraisal.appraisal(session, officer, code, rnd.code)
    for a in result.appraisers:
        sheets[a.appraiser_id] = dict(a.scores)
        comments[a.appraiser_id] = a.comment
    names = repo.officer_names(session, tenant, list(sheets))
    appraisers = [
        AppraiserRow(
            names.get(a.appraiser_id, "—"), decimal_text(a.weighted_mean), a.comment, a.appraiser_id == officer.id
        )
        for a in result.appraisers
    ]
    ranking: list[RankedOut] = appraisal.unit_ranking(session, tenant, sub.campaign_id, rnd, case.holder_unit_id)
    me = next((r for r in ranking if r.tracking_code == sub.tracking_code), None)
    can_score = mine and officer.role in APPRAISERS and open_round
    if not open_round:
        score_note = f"{rnd.name} đã chốt: điểm thẩm định không sửa được nữa."
    elif not mine:
        score_note = f"Sáng kiến đang do {holder.name} thẩm định."
    elif officer.role not in APPRAISERS:
        score_note = "Chấm điểm dành cho cán bộ thẩm định và Chủ tịch, Phó Chủ tịch."
    else:
        score_note = None

    levels = wf_repo.levels(session, tenant, sub.campaign_id)
    _, target, stop = next_step(levels, holder, rnd)
    target_name = None
    already = False
    failures: list[Condition] = []
    if target is not None:
        target_name = NATIONAL if holder.parent_id is None else parent_name(session, tenant, holder)
        already = wf_repo.nomination_exists(session, tenant, rnd.id, sub.id, target.code)
        failures = failing_conditions(session, sub, case, rnd, target, case.holder_unit_id)
    quota = quota_view(nominations.quota_of(session, tenant, rnd, sub.campaign_id, holder))
    commended = bool(repo.commended_in(session, tenant, rnd.id, case.holder_unit_id, [sub.id]))
    complaints = [
        ComplaintView(COMPLAINT_KIND_LABELS.get(c.kind, c.kind), when_text(c.filed_at), c.body)
        for c in wf_repo.open_complaints(session, tenant, sub.id)
    ]
    confirmation = confirmation_view(session, tenant, sub.id)
    return Panel(
        **{
            **base.__dict__,
            "round": RoundChoice(rnd.code, rnd.name, not open_round),
            "criteria": _criteria_rows(criteria, sheets, officer.id),
            "my_comment": comments.get(officer.id) or "",
            "appraisers": appraisers,
            "mean": decimal_text(result.mean),
            "rank": me.rank if me else None,
            "ranked": sum(1 for r in ranking if r.rank is not None),
            "tie_break": me.tie_break if me else None,
            "can_score": can_score,
            "score_note": score_note,
            "target_name": target_name,
            "stop_note": stop,
            "already_sent": already,
            "failures": failures,
            "confirmation": confirmation,
            "can_link": deciding and not confirmation.confirmed,
            "complaints": complaints,
            "quota": quota,
            "can_nominate": mine and deciding and open_round and target is not None and not already,
            "can_commend": mine and deciding and not commended,
            "commended": commended,
            "can_override": officer.role == Role.quan_tri
            and quota is not None
            and quota.max_count is not None
            and quota.full
            and sees_unit(session, officer, holder.id),
        }
    )


def parent_name(session: Session, tenant_id: int, unit: Unit) -> str:
    parent = None if unit.parent_id is None else wf_repo.unit(session, tenant_id, unit.parent_id)
    return parent.name if parent else NATIONAL


def _sent_lines(session: Session, tenant_id: int, sub: Submission, rounds: Sequence[Round]) -> list[str]:
    sent = wf_repo.nominations_of(session, tenant_id, sub.id)
    if not sent:
        return []
    names = {r.id: r.name for r in rounds}
    ids = {n.from_unit_id for n in sent} | {n.to_unit_id for n in sent if n.to_unit_id is not None}
    units = wf_repo.units_by_ids(session, tenant_id, list(ids))
    lines = []
    for n in sent:
        to = NATIONAL if n.to_unit_id is None else units[n.to_unit_id].name
        over = " (vượt số lượng, được phép)" if n.over_quota else ""
        who = units[n.from_unit_id].name
        lines.append(f"{names.get(n.round_id, '')}: {who} giới thiệu lên {to} lúc {when_text(n.nominated_at)}{over}")
    return lines


# --- reading the appraisal form ----------------------------------------------------------------

SCORE_FIELD = "diem_"
_PLAIN_NUMBER = re.compile(r"\d{1,6}(\.\d{1,6})?")


def parse_scores(form: Mapping[str, str], criteria: Sequence[Criterion]) -> dict[str, Decimal]:
    """The scores typed in the form (``diem_<criterion>``), a comma or a point as the decimal
    mark (phones in Vietnamese type a comma); blank ones are left out. The workflow checks the
    range and the two decimals."""
    out: dict[str, Decimal] = {}
    for c in criteria:
        raw = (form.get(SCORE_FIELD + c.code) or "").strip().replace(",", ".")
        if not raw:
            continue
        # Plain decimals only: Decimal() alone would take "NaN", "Infinity" and "1e999999".
        if not _PLAIN_NUMBER.fullmatch(raw):
            raise InvalidInput(f"Điểm tiêu chí “{c.name}” phải là một số", field=f"scores.{c.code}")
        out[c.code] = Decimal(raw)
    return out


def rubric_of(session: Session, officer: Officer, code: str) -> list[Criterion]:
    sub, _ = find_case(session, officer, code)
    return wf_repo.criteria(session, officer.tenant_id, sub.campaign_id)
