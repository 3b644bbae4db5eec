"""The two seed tenants' workflows, as their circulars set them (configuration, not code).

Thanh Hóa (Kế hoạch 33/KH-LĐLĐ, 03/03/2021): CĐCS → công đoàn cấp trên trực tiếp cơ sở (LĐLĐ
huyện, thị xã, thành phố; công đoàn ngành và tương đương; CĐCS trực thuộc LĐLĐ tỉnh) → LĐLĐ
tỉnh → Tổng Liên đoàn. Đợt 1 (Tháng Công nhân): each upper-grassroots unit recommends “không quá
02” to the province, “chậm nhất đến ngày 16/4/2021”; the province commends and proposes to the
TLĐ. Đợt 2 (75 năm Công đoàn Thanh Hóa): “không quá 04”, by 04/10/2021; the province only
commends.

Cao Bằng (Hà Quảng, Hướng dẫn 28/HD-LĐLĐ, 18/03/2021): CĐCS → LĐLĐ huyện → LĐLĐ tỉnh → Tổng Liên
đoàn. Each CĐCS under Hà Quảng recommends “từ 01 sáng kiến trở lên” to the district, dossiers
“trước ngày 12/4/2021” (so due at 00:00 on 12/4). The province's own guidance (60/HD-LĐLĐ) is
not in the seeds: no provincial deadline or quota is invented here.

Neither circular weighs the appraisal; the rubric below (the issue's four criteria) is the
seeded default, which each tenant's administrators may change before scoring starts.

Dates are instants in Asia/Ho_Chi_Minh (“đến ngày D” is due at 24:00 of D). The demo campaign
gets the same structure, its dates moved after its portal closes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.review import repository as review_repo
from services.review.models import Campaign
from services.review.workflow import repository as repo
from services.review.workflow.models import Criterion, Deadline, Level, QuotaRule, Round, Settings
from shared.db import TenantScope
from shared.timeutil import VN_TZ, end_of_day

UPPER_GRASSROOTS = ["district", "provincial_sector", "industrial_zone", "grassroots_direct"]


@dataclass(frozen=True)
class RoundSpec:
    code: str
    name: str
    # (level, scope unit code or None, due) — due as a date (24:00 of it) or an instant
    deadlines: list[tuple[str, str | None, dt.date | dt.datetime]]
    # (from level, scope unit code or None, min, max)
    quotas: list[tuple[str, str | None, int | None, int | None]]
    top_level: str | None = None


@dataclass(frozen=True)
class TenantSpec:
    tenant: str
    levels: list[tuple[str, str, list[str]]]
    rounds: list[RoundSpec]
    complaints_from: str = "can_bo"
    criteria: list[tuple[str, str, Decimal]] = field(
        default_factory=lambda: [
            ("tinh_moi", "Tính mới", Decimal(25)),
            ("hieu_qua", "Hiệu quả và giá trị làm lợi", Decimal(35)),
            ("pham_vi", "Phạm vi ứng dụng", Decimal(20)),
            ("nhan_rong", "Khả năng nhân rộng", Decimal(20)),
        ]
    )


THANH_HOA = TenantSpec(
    tenant="thanh-hoa",
    levels=[
        ("co_so", "Công đoàn cơ sở", ["grassroots"]),
        ("cap_tren", "Công đoàn cấp trên trực tiếp cơ sở", UPPER_GRASSROOTS),
        ("tinh", "Liên đoàn Lao động tỉnh Thanh Hóa", ["province"]),
        ("toan_quoc", "Tổng Liên đoàn Lao động Việt Nam", ["national"]),
    ],
    rounds=[
        RoundSpec(
            "dot-1",
            "Đợt 1 – Tháng Công nhân năm 2021",
            deadlines=[("tinh", None, dt.date(2021, 4, 16))],
            quotas=[("cap_tren", None, None, 2)],
        ),
        RoundSpec(
            "dot-2",
            "Đợt 2 – Kỷ niệm 75 năm ngày thành lập Công đoàn Thanh Hóa",
            deadlines=[("tinh", None, dt.date(2021, 10, 4))],
            quotas=[("cap_tren", None, None, 4)],
            top_level="tinh",
        ),
    ],
)

CAO_BANG = TenantSpec(
    tenant="cao-bang",
    levels=[
        ("co_so", "Công đoàn cơ sở", ["grassroots", "grassroots_direct"]),
        ("huyen", "Liên đoàn Lao động huyện và tương đương", ["district", "provincial_sector", "industrial_zone"]),
        ("tinh", "Liên đoàn Lao động tỉnh Cao Bằng", ["province"]),
        ("toan_quoc", "Tổng Liên đoàn Lao động Việt Nam", ["national"]),
    ],
    rounds=[
        RoundSpec(
            "dot-1",
            "Tháng Công nhân năm 2021",
            deadlines=[("huyen", "H045", dt.datetime(2021, 4, 12, tzinfo=VN_TZ))],
            quotas=[("co_so", "H045", 1, None)],
        )
    ],
)

SPECS = (THANH_HOA, CAO_BANG)


def _instant(due: dt.date | dt.datetime) -> dt.datetime:
    return due if isinstance(due, dt.datetime) else end_of_day(due)


def _shift(campaign: Campaign, due: dt.datetime) -> dt.datetime:
    """The demo campaign keeps the real one's spacing after its portal closes (20/4/2021)."""
    if not campaign.is_demo:
        return due
    return campaign.closes_at + (due - end_of_day(dt.date(2021, 4, 20)))


def seed_tenant(session: Session, tenant_id: int, campaign: Campaign, spec: TenantSpec) -> int:
    """Idempotent: levels, rubric and settings are upserted; a round that exists keeps its
    deadlines and quotas (administrators may have changed them). Returns rounds created."""
    for i, (code, name, kinds) in enumerate(spec.levels, start=1):
        stmt = insert(Level).values(
            tenant_id=tenant_id, campaign_id=campaign.id, code=code, ordinal=i, name=name, unit_kinds=kinds
        )
        session.execute(
            stmt.on_conflict_do_update(
                constraint="pk_wf_levels", set_={"name": stmt.excluded.name, "unit_kinds": stmt.excluded.unit_kinds}
            )
        )
    for i, (code, name, weight) in enumerate(spec.criteria, start=1):
        session.execute(
            insert(Criterion)
            .values(
                tenant_id=tenant_id,
                campaign_id=campaign.id,
                code=code,
                ordinal=i,
                name=name,
                weight=weight,
                max_score=10,
            )
            .on_conflict_do_nothing()
        )
    session.execute(
        insert(Settings)
        .values(tenant_id=tenant_id, campaign_id=campaign.id, complaints_from=spec.complaints_from)
        .on_conflict_do_nothing()
    )
    created = 0
    for i, r in enumerate(spec.rounds, start=1):
        if repo.round_by_code(session, tenant_id, campaign.id, r.code) is not None:
            continue
        rnd = Round(
            tenant_id=tenant_id, campaign_id=campaign.id, code=r.code, name=r.name, ordinal=i, top_level=r.top_level
        )
        repo.add(session, rnd)
        created += 1
        for level, scope, due in r.deadlines:
            repo.add(
                session,
                Deadline(
                    tenant_id=tenant_id,
                    round_id=rnd.id,
                    level_code=level,
                    scope_unit_id=_unit_id(session, tenant_id, campaign, scope),
                    due_at=_shift(campaign, _instant(due)),
                ),
            )
        for level, scope, lo, hi in r.quotas:
            repo.add(
                session,
                QuotaRule(
                    tenant_id=tenant_id,
                    round_id=rnd.id,
                    from_level=level,
                    scope_unit_id=_unit_id(session, tenant_id, campaign, scope),
                    min_count=lo,
                    max_count=hi,
                ),
            )
    session.flush()
    return created


def _unit_id(session: Session, tenant_id: int, campaign: Campaign, code: str | None) -> int | None:
    if code is None:
        return None
    unit = repo.unit_by_code(session, tenant_id, campaign.tree_id, code)
    if unit is None:
        raise ValueError(f"không có đơn vị {code} trong cây tổ chức của chương trình")
    return unit.id


def seed_workflows(
    scope: TenantScope, campaign_codes: list[str], specs: tuple[TenantSpec, ...] = SPECS
) -> dict[str, int]:
    """Each seed tenant's workflow for each campaign, one transaction per tenant (row-level
    security binds the seeder like any request). Returns rounds created per tenant."""
    with scope(None) as s:
        tenants = {code: t.id for code, t in review_repo.tenants_by_code(s).items()}
        campaigns = [c for code in campaign_codes if (c := repo.campaign_by_code(s, code)) is not None]
        s.expunge_all()
    out: dict[str, int] = {}
    for spec in specs:
        if spec.tenant not in tenants:
            raise ValueError(f"chưa nạp đơn vị {spec.tenant}")
        with scope(tenants[spec.tenant]) as s:
            out[spec.tenant] = sum(seed_tenant(s, tenants[spec.tenant], c, spec) for c in campaigns)
    return out
