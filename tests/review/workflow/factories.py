"""Factories for workflow tests: units below the loaded tree (the data has no CĐCS), officers,
submissions as the ingester writes them (PII sealed), and a Session on the test's connection
whose tenant the test switches as people of different tenants act."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.review.accounts.models import OfficerAccount, Role
from services.review.accounts.principal import Officer
from services.review.models import Campaign, Submission, Tenant, Unit
from services.review.workflow import appraisal, confirmation
from services.review.workflow.schemas import ConfirmIn
from services.review.workflow.tokens import derive_key
from shared.config import CommonSettings
from shared.contracts.submissions import new_tracking_code
from shared.db import set_tenant
from shared.pii import PiiCipher
from shared.timeutil import VN_TZ

THANH_HOA, CAO_BANG, TLD = 38, 4, 999
KEY = derive_key(b"test-confirmation-key")
_seq = itertools.count(1)


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=VN_TZ)


FULL_SCORES = {"tinh_moi": Decimal(8), "hieu_qua": Decimal(9), "pham_vi": Decimal(7), "nhan_rong": Decimal(8)}


class World:
    def __init__(self, session: Session, settings: CommonSettings) -> None:
        self.s = session
        self.cipher = PiiCipher.from_settings(settings)
        self.tenant: int | None = None

    def as_tenant(self, tenant_id: int | None) -> World:
        self.s.flush()
        set_tenant(self.s.connection(), tenant_id)
        self.tenant = tenant_id
        return self

    def campaign(self, code: str = "75k-2021") -> Campaign:
        c = self.s.scalar(select(Campaign).where(Campaign.code == code))
        assert c is not None
        return c

    def unit(self, code: str, tree: str = "2021") -> Unit:
        assert self.tenant is not None
        c = self.campaign()
        u = self.s.scalar(
            select(Unit).where(Unit.tenant_id == self.tenant, Unit.code == code, Unit.tree_id == c.tree_id)
        )
        assert u is not None, code
        return u

    def add_unit(self, parent: Unit, kind: str = "grassroots", name: str | None = None) -> Unit:
        n = next(_seq)
        u = Unit(
            tenant_id=parent.tenant_id,
            tree_id=parent.tree_id,
            code=f"CS-{uuid.uuid4().hex[:8].upper()}",
            name=name or f"Công đoàn cơ sở số {n} ({parent.name})",
            kind=kind,
            parent_id=parent.id,
            valid_from=dt.date(2008, 8, 1),
        )
        self.s.add(u)
        self.s.flush()
        return u

    def officer(self, unit: Unit, role: Role, name: str | None = None) -> Officer:
        tenant = self.s.get(Tenant, unit.tenant_id)
        assert tenant is not None
        username = f"{role.value.replace('_', '-')}-{uuid.uuid4().hex[:8]}"
        row = OfficerAccount(
            tenant_id=unit.tenant_id,
            unit_id=unit.id,
            username=username,
            full_name=name or f"Cán bộ {role.value} {unit.code}",
            role=role.value,
            password_hash="không-dùng-để-đăng-nhập",
        )
        self.s.add(row)
        self.s.flush()
        return Officer(
            tenant_id=unit.tenant_id,
            id=row.id,
            unit_id=unit.id,
            role=role,
            name=row.full_name,
            username=username,
            tenant_code=tenant.code,
            unit_name=unit.name,
        )

    def submission(
        self, unit: Unit, *, campaign: str = "75k-2021", submitted_at: dt.datetime | None = None, **over: Any
    ) -> Submission:
        idn = self.cipher.seal("001203004567", kind="id_number")
        ph = self.cipher.seal("0912345678", kind="phone")
        n = next(_seq)
        fields: dict[str, Any] = {
            "tenant_id": unit.tenant_id,
            "tracking_code": new_tracking_code(unit.tenant_id),
            "submission_id": uuid.uuid4().hex,
            "campaign_id": self.campaign(campaign).id,
            "unit_id": unit.id,
            "full_name": "Lê Văn Tâm",
            "id_number_enc": idn.ciphertext,
            "id_number_hash": idn.digest,
            "phone_enc": ph.ciphertext,
            "phone_hash": ph.digest,
            "idea_group": "doanh_nghiep",
            "field": "san_xuat",
            "title": f"Cải tiến dây chuyền đóng gói số {n}",
            "description": "Giảm 12% thời gian đóng gói nhờ bố trí lại băng chuyền.",
            "birth_year": 1985,
            "position": "Tổ trưởng sản xuất",
            "workplace": "Công ty TNHH Bao bì Thanh Hóa",
            "applied_from": "03/2021",
            "benefit": "Làm lợi 120 triệu đồng mỗi năm; áp dụng cho 3 phân xưởng.",
            "awards": "Lao động tiên tiến 2019, 2020",
            "status": "received",
            "submitted_at": submitted_at or vn(2021, 3, 15, 9, 0),
            "stream_id": f"{n}-0",
        }
        fields.update(over)
        sub = Submission(**fields)
        self.s.add(sub)
        self.s.flush()
        return sub

    def confirm(
        self, officer: Officer, code: str, *, at: dt.datetime, applied_on: dt.date = dt.date(2021, 3, 1)
    ) -> None:
        link = confirmation.create_link(
            self.s, officer, code, key=KEY, ttl=dt.timedelta(days=7), base_url="http://review.test", at=at
        )
        confirmation.confirm(
            self.s,
            confirmation.claims_of(KEY, link.token),
            ConfirmIn(name="Nguyễn Văn Giám", title="Giám đốc", applied_on=applied_on),
            at=at + dt.timedelta(hours=1),
        )

    def appraise(self, appraisers: list[Officer], code: str, round_code: str, *, at: dt.datetime) -> None:
        for i, a in enumerate(appraisers):
            scores = {k: v - i for k, v in FULL_SCORES.items()}
            appraisal.score(self.s, a, code, round_code, scores, f"Nhận xét của thẩm định viên {i + 1}", at=at)
