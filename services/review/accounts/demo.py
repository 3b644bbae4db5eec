"""Demo officers for a newcomer's machine (`sangkien review seed-officers`, run by `make run`).

For Thanh Hóa and Cao Bằng, one officer per role at the province union and at one district
union of the 2021 tree, and at one grassroots union (CĐCS) when the tree has one — the trees
in data/orgtree list unions down to districts and sectors only, so today there is none and the
report says so. For the Tổng Liên đoàn (tenant ``tld``, 999), one officer per role at its only
unit, so that the national inbox (“Đề nghị toàn quốc”) has someone to show it to.
Idempotent: an existing account is left as it is (its password included).
Refused in production, where a known password would be an open door.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from services.review.accounts import repository as repo
from services.review.accounts.models import ROLE_LABELS, OfficerAccount, Role
from services.review.accounts.passwords import hash_password
from services.review.accounts.principal import login_name
from services.review.models import Unit, UnitKind
from shared.db import TenantScope
from shared.errors import Forbidden

DEMO_PASSWORD = "demo-sangkien-2021"  # noqa: S105 - published on purpose: demo accounts only, never in prod
DEMO_TREE = "2021"
ROLE_SLUGS = {Role.tham_dinh: "tham-dinh", Role.chu_tich: "chu-tich", Role.quan_tri: "quan-tri"}
GRASSROOTS = (UnitKind.grassroots.value, UnitKind.grassroots_direct.value)


@dataclass(frozen=True)
class DemoTenant:
    code: str
    district: str | None  # a real district union of the 2021 tree; None: the national tenant
    names: tuple[str, ...]  # one per account, province first, in ROLE_SLUGS order


DEMO_TENANTS = (
    DemoTenant(
        "thanh-hoa",
        "H380",  # Liên đoàn Lao động thành phố Thanh Hóa
        (
            "Lê Thị Hạnh",
            "Nguyễn Văn Thắng",
            "Trịnh Minh Tuấn",
            "Hoàng Thị Lan",
            "Đỗ Văn Hùng",
            "Lê Quang Vinh",
            "Phạm Thị Thu",
            "Mai Văn Sơn",
            "Vũ Thị Hoa",
        ),
    ),
    DemoTenant(
        "cao-bang",
        "H045",  # Liên đoàn Lao động huyện Hà Quảng
        (
            "Nông Thị Mai",
            "Hoàng Văn Đức",
            "Lục Minh Khang",
            "Bế Thị Ngọc",
            "Đàm Văn Trường",
            "Nông Văn Phúc",
            "La Thị Hằng",
            "Lương Văn Kiên",
            "Hà Thị Duyên",
        ),
    ),
    DemoTenant("tld", None, ("Nguyễn Thị Thanh", "Trần Văn Quang", "Phan Minh Đức")),
)


@dataclass(frozen=True)
class DemoAccount:
    login_name: str
    role_label: str
    unit_name: str
    created: bool


@dataclass
class DemoReport:
    accounts: list[DemoAccount] = field(default_factory=list)
    without_grassroots: list[str] = field(default_factory=list)
    password: str = DEMO_PASSWORD


def _levels(s: Session, tenant_id: int, demo: DemoTenant) -> list[tuple[str, Unit | None]]:
    if demo.district is None:  # the Tổng Liên đoàn: one unit, no tree below it in this tenant
        return [("tld", repo.unit_by_code(s, tenant_id, DEMO_TREE, demo.code))]
    return [
        ("tinh", repo.unit_by_code(s, tenant_id, DEMO_TREE, demo.code)),
        ("huyen", repo.unit_by_code(s, tenant_id, DEMO_TREE, demo.district)),
        ("cdcs", repo.first_unit_of_kind(s, tenant_id, DEMO_TREE, GRASSROOTS)),
    ]


def seed_demo_officers(scope: TenantScope, *, environment: str) -> DemoReport:
    if environment == "prod":
        raise Forbidden("Không tạo tài khoản demo trong môi trường production")
    report = DemoReport()
    password_hash: str | None = None  # hashed once, only if an account is missing
    for demo in DEMO_TENANTS:
        with scope(None) as s:
            tenant = repo.tenant_by_code(s, demo.code)
            if tenant is None:
                raise ValueError(f"chưa nạp đơn vị {demo.code}: chạy `sangkien review load-tree {DEMO_TREE}` trước")
            tenant_id, tenant_name = tenant.id, tenant.name
        with scope(tenant_id) as s:
            names = iter(demo.names)
            for level, unit in _levels(s, tenant_id, demo):
                if unit is None:
                    if level == "cdcs":
                        report.without_grassroots.append(tenant_name)
                        continue
                    raise ValueError(f"cây {DEMO_TREE} không có đơn vị {level} của {demo.code}")
                for role, slug in ROLE_SLUGS.items():
                    username = f"{slug}.{level}"
                    name = next(names)
                    created = repo.officer_by_username(s, tenant_id, username) is None
                    if created:
                        password_hash = password_hash or hash_password(DEMO_PASSWORD)
                        repo.add_officer(
                            s,
                            OfficerAccount(
                                tenant_id=tenant_id,
                                unit_id=unit.id,
                                username=username,
                                full_name=name,
                                role=role.value,
                                password_hash=password_hash,
                                is_active=True,
                                is_demo=True,
                            ),
                        )
                    report.accounts.append(
                        DemoAccount(login_name(username, demo.code), ROLE_LABELS[role], unit.name, created)
                    )
    return report
