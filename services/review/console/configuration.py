"""Two views: the tenant's workflow configuration for its administrators (“Cấu hình”: levels,
rounds with their deadlines per level, quotas, rubric — with what the edit forms need: ids and
the values as typed; the edits are workflow.configure's) and the Tổng Liên đoàn's inbox of
nominations from every province (“Đề nghị toàn quốc”)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.console import selection_repository as repo
from services.review.console.service import Option
from services.review.models import UNIT_KIND_LABELS
from services.review.workflow import nominations
from services.review.workflow import repository as wf_repo
from services.review.workflow.access import DECIDERS, require_role
from shared.contracts.submissions import FIELD_LABELS
from shared.errors import NotFound
from shared.timeutil import format_vn, local

COMPLAINTS_FROM = {
    "can_bo": "Chỉ cán bộ công đoàn",
    "cong_khai": "Cán bộ và bất kỳ ai có mã theo dõi (công khai)",
}


@dataclass(frozen=True)
class LevelView:
    ordinal: int
    name: str
    kinds: str


@dataclass(frozen=True)
class RuleView:
    text: str
    scope: str
    id: int = 0
    # The values as the edit form shows them: the local date and time, or the bounds.
    due_local: str = ""
    min_count: str = ""
    max_count: str = ""


@dataclass(frozen=True)
class RoundView:
    code: str
    name: str
    top: str
    closed: str | None
    snapshot_hash: str | None
    deadlines: list[RuleView] = field(default_factory=list)
    quotas: list[RuleView] = field(default_factory=list)


@dataclass(frozen=True)
class CriterionView:
    code: str
    name: str
    weight: str
    share: str  # of the total weight, in percent
    max_score: int


@dataclass(frozen=True)
class ConfigView:
    campaigns: list[Option]
    campaign_code: str
    levels: list[LevelView] = field(default_factory=list)
    rounds: list[RoundView] = field(default_factory=list)
    criteria: list[CriterionView] = field(default_factory=list)
    complaints_from: str | None = None


def configuration(session: Session, officer: Officer, campaign_code: str | None) -> ConfigView:
    require_role(officer, (Role.quan_tri,))
    tenant = officer.tenant_id
    configured = repo.tenant_rounds(session, tenant)
    campaigns: dict[str, Option] = {}
    for _, code, name in configured:
        campaigns.setdefault(code, Option(code, name))
    if campaign_code and campaign_code not in campaigns:
        raise NotFound("Không tìm thấy chương trình", field="campaign")
    chosen = campaign_code or next(iter(campaigns), "")
    campaign = wf_repo.campaign_by_code(session, chosen) if chosen else None
    if campaign is None:
        return ConfigView(list(campaigns.values()), chosen)
    levels = wf_repo.levels(session, tenant, campaign.id)
    level_names = {lv.code: lv.name for lv in levels}
    rounds = [r for r, code, _ in configured if code == chosen]
    scope_ids = set()
    for r in rounds:
        scope_ids |= {d.scope_unit_id for d in repo.deadlines_of_round(session, tenant, r.id) if d.scope_unit_id}
        scope_ids |= {q.scope_unit_id for q in wf_repo.quota_rules(session, tenant, r.id) if q.scope_unit_id}
    scopes = {u.id: u.name for u in wf_repo.units_by_ids(session, tenant, list(scope_ids)).values()}

    def scope(unit_id: int | None) -> str:
        return "mọi đơn vị" if unit_id is None else f"các đơn vị thuộc {scopes.get(unit_id, '?')}"

    round_views = []
    for r in rounds:
        deadlines = [
            RuleView(
                f"Hồ sơ gửi lên {level_names.get(d.level_code, d.level_code)} chậm nhất {format_vn(d.due_at)}",
                scope(d.scope_unit_id),
                id=d.id,
                due_local=f"{local(d.due_at):%Y-%m-%dT%H:%M}",
            )
            for d in repo.deadlines_of_round(session, tenant, r.id)
        ]
        quotas = [
            RuleView(
                f"{level_names.get(q.from_level, q.from_level)}: {_bounds(q.min_count, q.max_count)}",
                scope(q.scope_unit_id),
                id=q.id,
                min_count="" if q.min_count is None else str(q.min_count),
                max_count="" if q.max_count is None else str(q.max_count),
            )
            for q in wf_repo.quota_rules(session, tenant, r.id)
        ]
        round_views.append(
            RoundView(
                code=r.code,
                name=r.name,
                top=level_names.get(r.top_level, r.top_level) if r.top_level else "Tổng Liên đoàn Lao động Việt Nam",
                closed=None if r.closed_at is None else f"{local(r.closed_at):%H:%M %d/%m/%Y}",
                snapshot_hash=r.snapshot_hash,
                deadlines=deadlines,
                quotas=quotas,
            )
        )
    criteria = wf_repo.criteria(session, tenant, campaign.id)
    total = sum((Decimal(c.weight) for c in criteria), Decimal(0)) or Decimal(1)
    settings = wf_repo.settings(session, tenant, campaign.id)
    return ConfigView(
        campaigns=list(campaigns.values()),
        campaign_code=chosen,
        levels=[
            LevelView(lv.ordinal, lv.name, ", ".join(UNIT_KIND_LABELS.get(k, k) for k in lv.unit_kinds))
            for lv in levels
        ],
        rounds=round_views,
        criteria=[
            CriterionView(
                c.code,
                c.name,
                f"{Decimal(c.weight).normalize():f}",
                f"{Decimal(c.weight) * 100 / total:.0f}%",
                c.max_score,
            )
            for c in criteria
        ],
        complaints_from=COMPLAINTS_FROM.get(settings.complaints_from) if settings else None,
    )


def _bounds(lo: int | None, hi: int | None) -> str:
    if lo is not None and hi is not None:
        return f"giới thiệu từ {lo} đến {hi} sáng kiến lên cấp trên"
    if hi is not None:
        return f"giới thiệu không quá {hi} sáng kiến lên cấp trên"
    return f"giới thiệu ít nhất {lo} sáng kiến lên cấp trên"


# --- the Tổng Liên đoàn's inbox -------------------------------------------------------------

NATIONAL_STATUS = {"cho_xet": "Chờ xét", "bieu_duong": "Đã biểu dương", "khong_chon": "Không chọn"}


@dataclass(frozen=True)
class NationalRow:
    source_tenant_id: int
    source_submission_id: int
    tracking_code: str
    province: str
    source_unit: str | None
    round: str
    title: str
    field_label: str | None
    summary: str | None
    benefit: str | None
    awards: list[str]
    author: str | None
    trade_secret: bool
    nominated_at: str
    status: str
    status_label: str
    decision_note: str | None = None
    can_decide: bool = False  # chủ tịch, quản trị of the Tổng Liên đoàn, while it waits


def national(session: Session, officer: Officer) -> list[NationalRow]:
    """What the provinces sent to the Tổng Liên đoàn (nothing else of theirs is readable here:
    row-level security). A trade secret arrives as its name, effect and awards only."""
    rows = nominations.national_list(session, officer)
    names = repo.tenant_names(session, {r.source_tenant_id for r in rows})
    deciding = officer.role in DECIDERS
    return [
        NationalRow(
            source_tenant_id=r.source_tenant_id,
            source_submission_id=r.source_submission_id,
            tracking_code=r.tracking_code,
            province=names.get(r.source_tenant_id, str(r.source_tenant_id)),
            source_unit=r.source_unit_name,
            round=r.round,
            title=r.title,
            field_label=FIELD_LABELS.get(r.field, r.field) if r.field else None,
            summary=r.summary,
            benefit=r.benefit,
            awards=r.awards,
            author=r.author,
            trade_secret=r.trade_secret,
            nominated_at=f"{local(r.nominated_at):%H:%M %d/%m/%Y}",
            status=r.status,
            status_label=NATIONAL_STATUS.get(r.status, r.status),
            decision_note=r.decision_note,
            can_decide=deciding and r.status == "cho_xet",
        )
        for r in sorted(rows, key=lambda r: r.nominated_at, reverse=True)
    ]
