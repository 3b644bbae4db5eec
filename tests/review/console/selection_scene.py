"""A small Thanh Hóa subtree where the selection pages are exercised: a district union (an
upper-grassroots unit: at most 2 initiatives to the province in round 1) with one CĐCS, its
officers, and initiatives complete enough to be nominated once appraised and confirmed. The
workflow acts used to prepare a scene run through the workflow's own functions, committed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.models import Campaign, Tenant, Unit
from services.review.workflow import appraisal, confirmation
from services.review.workflow.models import Round as WfRound
from services.review.workflow.schemas import ConfirmIn
from shared.db import make_sessionmaker, tenant_session
from shared.timeutil import now
from tests.review.accounts.conftest import CAO_BANG, Made

if TYPE_CHECKING:
    from tests.review.console.conftest import MadeSubmission, MadeUnit, MakeOfficer, MakeSubmission, MakeUnit

DEMO_CAMPAIGN = "75k-demo"
ROUND = "dot-1"
SCORES = {"tinh_moi": Decimal(8), "hieu_qua": Decimal("9.5"), "pham_vi": Decimal(7), "nhan_rong": Decimal(8)}


def complete(**over: Any) -> dict[str, Any]:
    """What the summary table needs of an initiative (validity: “đầy đủ”), applied this month."""
    return {
        "birth_year": 1984,
        "position": "Tổ trưởng tổ bảo trì",
        "workplace": "Công ty Cổ phần Mía đường Thử Nghiệm",
        "benefit": "Làm lợi khoảng 150 triệu đồng mỗi năm, áp dụng cho 2 phân xưởng.",
        "applied_from": f"{now():%m/%Y}",
        **over,
    }


def principal(factory: sessionmaker[Session], made: Made) -> Officer:
    """The signed-in officer the workflow's functions take, for a factory-made account."""
    with tenant_session(factory, made.tenant_id) as s:
        tenant = s.get(Tenant, made.tenant_id)
        unit = s.get(Unit, (made.tenant_id, made.unit_id))
        assert tenant is not None and unit is not None
        return Officer(
            made.tenant_id,
            made.id,
            made.unit_id,
            made.role,
            f"Cán bộ {made.username}",
            made.username,
            tenant.code,
            unit.name,
        )


@dataclass
class Scene:
    factory: sessionmaker[Session]
    district: MadeUnit
    cdcs: MadeUnit
    chair: Made
    appraiser: Made
    admin: Made  # the province's administrator
    stranger: Made  # Cao Bằng's administrator, at its root
    subs: list[MadeSubmission]

    def as_officer(self, made: Made) -> Officer:
        return principal(self.factory, made)

    def appraise(self, code: str, made: Made | None = None, scores: dict[str, Decimal] | None = None) -> None:
        with tenant_session(self.factory, self.district.tenant_id) as s:
            appraisal.score(s, self.as_officer(made or self.appraiser), code, ROUND, scores or SCORES, "Đạt yêu cầu")

    def confirm(self, code: str, key: bytes) -> None:
        with tenant_session(self.factory, self.district.tenant_id) as s:
            link = confirmation.create_link(
                s, self.as_officer(self.chair), code, key=key, ttl=dt.timedelta(days=7), base_url="http://x"
            )
            confirmation.confirm(
                s,
                confirmation.claims_of(key, link.token),
                ConfirmIn(name="Nguyễn Văn Giám", title="Giám đốc", applied_on=now().date()),
            )

    def round_id(self, code: str = ROUND) -> int:
        with tenant_session(self.factory, self.district.tenant_id) as s:
            demo = select(Campaign.id).where(Campaign.code == DEMO_CAMPAIGN).scalar_subquery()
            rid = s.scalar(
                select(WfRound.id).where(
                    WfRound.tenant_id == self.district.tenant_id, WfRound.code == code, WfRound.campaign_id == demo
                )
            )
            assert rid is not None
            return int(rid)


def build_scene(
    app_engine: Engine, make_unit: MakeUnit, make_officer: MakeOfficer, make_submission: MakeSubmission
) -> Scene:
    district = make_unit(kind="district", name="LĐLĐ huyện Thử Xét Chọn")
    cdcs = make_unit(parent_code=district.code, name="CĐCS Công ty Thử Xét Chọn")
    titles = ("Cải tiến máy ép mía giảm hao hụt", "Bảng theo dõi ca kíp bằng mã QR", "Tận dụng bã mía làm phân bón")
    subs = [make_submission(district, title=t, **complete()) for t in titles]
    return Scene(
        factory=make_sessionmaker(app_engine),
        district=district,
        cdcs=cdcs,
        chair=make_officer(district.tenant_id, district.code, Role.chu_tich),
        appraiser=make_officer(district.tenant_id, district.code, Role.tham_dinh),
        admin=make_officer(role=Role.quan_tri),
        stranger=make_officer(CAO_BANG, "cao-bang", Role.quan_tri),
        subs=subs,
    )
