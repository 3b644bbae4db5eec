"""Demo data for a newcomer's machine (`sangkien review seed-demo`, run by `make run` after
`seed-officers`), so that every console page has something to show.

The trees in data/orgtree stop at districts and sectors: there is no grassroots union (CĐCS).
For Thanh Hóa and Cao Bằng this adds a few demo CĐCS (``units.is_demo``, named “… (dữ liệu
mẫu)”) under the district union the demo officers belong to, the demo officers of those CĐCS
(through the accounts package's own seeder, which picks up a CĐCS once there is one), and about
60 demo initiatives per tenant (``source = 'demo'``) in the open demo campaign, spread over the
demo CĐCS, their district and a few other districts — a handful of them deliberately the same
person or nearly the same text, so that the duplicate badges show. Every unit of the two tenants
that has no contact address gets one, ``<code>@demo.congdoan.vn``, so that the reminders notify
sends in `make run` reach the local SMTP server's inbox; an address already set (by hand, on
/console/don-vi) is kept. Idempotent (fixed codes and submission ids); refused in production.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from services.review.accounts import repository as accounts_repo
from services.review.accounts.demo import DEMO_TENANTS, DEMO_TREE, DemoReport, seed_demo_officers
from services.review.console import repository as repo
from services.review.console import unit_repository
from services.review.console.importing import identity_columns
from services.review.console.service import signature_values
from services.review.models import Unit, UnitKind
from services.review.service import DEMO_CAMPAIGN
from shared.contracts.submissions import FIELD_LABELS, new_tracking_code
from shared.db import TenantScope
from shared.errors import Forbidden
from shared.pii import PiiCipher

PER_TENANT = 60
DEMO_EMAIL_DOMAIN = "demo.congdoan.vn"  # every unit's demo mailbox: f"{code.lower()}@{DEMO_EMAIL_DOMAIN}"
SUFFIX = " (dữ liệu mẫu)"
# The provinces only: the Tổng Liên đoàn (in DEMO_TENANTS for its officers) holds no initiatives.
PROVINCES = [d for d in DEMO_TENANTS if d.district is not None]

GRASSROOTS: dict[str, tuple[str, ...]] = {
    "thanh-hoa": (
        "CĐCS Công ty CP Bia Hồng Lam",
        "CĐCS Công ty TNHH May Đông Sơn",
        "CĐCS Bệnh viện Đa khoa Hàm Rồng",
        "CĐCS Trường THCS Điện Biên",
    ),
    "cao-bang": (
        "CĐCS Công ty CP Chè Hà Quảng",
        "CĐCS Trạm Y tế xã Trường Hà",
        "CĐCS Trường PTDTBT THCS Lũng Nặm",
        "CĐCS Ủy ban nhân dân xã Sóc Hà",
    ),
}

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Nông")
MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Thu", "Hữu", "Ngọc", "Quang", "Thanh", "Xuân")
GIVEN: tuple[str, ...] = (
    *("An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hằng", "Hùng", "Lan", "Linh", "Long", "Mai", "Nam"),
    *("Nga", "Phong", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trung", "Tuấn", "Vân", "Yến", "Đạt", "Điệp"),
)

# Each initiative: a title and the problem it solves, then one of the ways, then the result.
IDEAS: tuple[tuple[str, str, str], ...] = (
    ("san_xuat", "Cải tiến khuôn ép đế giày", "Khuôn ép đế giày cũ làm hỏng nhiều sản phẩm ở công đoạn ép nhiệt."),
    ("san_xuat", "Tận dụng nhiệt thải lò hơi", "Nhiệt thải của lò hơi bị xả thẳng ra môi trường, lãng phí than."),
    ("san_xuat", "Sắp xếp lại chuyền may", "Chuyền may bị ùn hàng ở công đoạn tra cổ áo vào cuối ca."),
    ("san_pham_moi", "Sản phẩm trà túi lọc từ chè Shan tuyết", "Chè búp thu hoạch cuối vụ chỉ bán được giá thấp."),
    ("san_pham_moi", "Bao bì giấy thay túi ni lông", "Sản phẩm đóng gói bằng túi ni lông khó phân hủy."),
    (
        "an_toan_moi_truong",
        "Che chắn an toàn máy cắt vải",
        "Máy cắt vải không có tấm che, dễ gây thương tích ở tay.",
    ),
    ("an_toan_moi_truong", "Thu gom nước thải rửa chai", "Nước thải rửa chai chảy ra mương thoát nước chung."),
    ("an_toan_moi_truong", "Hút bụi cục bộ tại xưởng mài", "Bụi mài kim loại bay khắp xưởng, ảnh hưởng sức khỏe."),
    ("cai_cach_hanh_chinh", "Số hóa hồ sơ đoàn viên", "Hồ sơ đoàn viên lưu bằng giấy, tra cứu mất nhiều thời gian."),
    ("cai_cach_hanh_chinh", "Tiếp nhận hồ sơ qua Zalo", "Người dân phải đi lại nhiều lần để bổ sung giấy tờ."),
    ("cai_cach_hanh_chinh", "Lịch họp điện tử cho cơ quan", "Giấy mời họp in ra nhiều và hay đến chậm."),
    ("cong_dong", "Tủ thuốc cộng đồng tại bản", "Người dân vùng cao ở xa trạm y tế, thiếu thuốc thông thường."),
    ("cong_dong", "Lớp học bơi miễn phí cho học sinh", "Mùa hè nhiều học sinh tắm sông suối không an toàn."),
    (
        "cong_dong",
        "Sổ theo dõi sức khỏe người cao tuổi",
        "Người cao tuổi trong xã chưa được đo huyết áp định kỳ.",
    ),
    ("khac", "Quỹ tiết kiệm xoay vòng của công nhân", "Công nhân khó khăn phải vay nóng với lãi suất cao."),
    ("khac", "Tủ sách dùng chung ở khu nhà trọ", "Công nhân ở trọ ít có sách báo để đọc sau giờ làm."),
)
WAYS = (
    "Tổ kỹ thuật đã thiết kế lại bộ phận này bằng vật liệu sẵn có, chi phí thấp và dễ thay thế.",
    "Nhóm tác giả đề xuất quy trình mới, phân công lại người phụ trách từng bước và kiểm tra chéo cuối ca.",
    "Đơn vị phối hợp với chuyên môn thử nghiệm trong ba tháng tại một tổ trước khi áp dụng rộng rãi.",
    "Giải pháp dùng điện thoại thông minh và nhóm nhắn tin để thông báo, nhắc việc và lưu lại kết quả.",
    "Công đoàn cơ sở vận động đoàn viên góp ngày công, doanh nghiệp hỗ trợ một phần kinh phí vật tư.",
    "Tác giả chế tạo thêm bộ gá lắp đơn giản giúp thao tác nhanh hơn và giảm sai sót của người làm.",
)
RESULTS = (
    "Sau khi áp dụng, tỷ lệ sai hỏng giảm {n}% và mỗi năm tiết kiệm khoảng {m} triệu đồng.",
    "Từ tháng {k}/2021 đến nay đã phục vụ hơn {m} lượt người, được người lao động đánh giá cao.",
    "Thời gian thực hiện rút ngắn {n}%, có thể nhân rộng cho các đơn vị cùng ngành trong tỉnh.",
)


@dataclass
class DemoConsoleReport:
    units_created: int = 0
    submissions_created: int = 0
    emails_set: int = 0
    officers: DemoReport | None = None
    units: list[str] = field(default_factory=list)


def _sid(tenant_code: str, i: int) -> str:
    return hashlib.sha256(f"demo-console:{tenant_code}:{i}".encode()).hexdigest()[:32]


def _person(rng: random.Random, i: int) -> tuple[str, str, str]:
    """(name, ID number, phone) — the first is always “Nguyễn Văn An”, and the second the same
    person again (same ID and phone): one person may submit many times, the badge says so."""
    j = 0 if i == 1 else i
    name = "Nguyễn Văn An" if j == 0 else f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
    return name, f"0380{j:08d}", f"09{(j * 7919) % 100_000_000:08d}"


def _description(rng: random.Random, idea: tuple[str, str, str], i: int) -> str:
    way = WAYS[i % len(WAYS)]
    result = rng.choice(RESULTS).format(n=rng.randint(5, 40), m=rng.randint(10, 900), k=rng.randint(2, 5))
    return f"{idea[2]} {way} {result}"


def seed_demo_console(
    scope: TenantScope, cipher: PiiCipher, *, environment: str, now: dt.datetime
) -> DemoConsoleReport:
    if environment == "prod":
        raise Forbidden("Không tạo dữ liệu mẫu trong môi trường production")
    report = DemoConsoleReport()
    with scope(None) as s:
        campaign = repo.campaign_by_code(s, DEMO_CAMPAIGN)
        tree = repo.tree_by_code(s, DEMO_TREE)
        if campaign is None or tree is None:
            raise ValueError(f"chưa có chương trình {DEMO_CAMPAIGN}: chạy `sangkien review seed --demo` trước")
        campaign_id, tree_id, tree_from = campaign.id, tree.id, tree.valid_from
        tenants = {d.code: accounts_repo.tenant_by_code(s, d.code) for d in PROVINCES}
    for demo in PROVINCES:
        tenant = tenants[demo.code]
        if tenant is None:
            raise ValueError(f"chưa nạp đơn vị {demo.code}: chạy `sangkien review load-tree {DEMO_TREE}` trước")
        assert demo.district is not None  # PROVINCES have one
        with scope(tenant.id) as s:
            district = repo.unit_by_code(s, tenant.id, tree_id, demo.district)
            province = repo.unit_by_code(s, tenant.id, tree_id, demo.code)
            if district is None or province is None:
                raise ValueError(f"cây {DEMO_TREE} không có đơn vị {demo.district} của {demo.code}")
            grassroots: list[Unit] = []
            for n, name in enumerate(GRASSROOTS[demo.code], start=1):
                code = f"DEMO-{demo.district}-{n:02d}"
                unit = repo.unit_by_code(s, tenant.id, tree_id, code)
                if unit is None:
                    unit = repo.add_unit(
                        s,
                        Unit(
                            tenant_id=tenant.id,
                            tree_id=tree_id,
                            code=code,
                            name=name + SUFFIX,
                            kind=UnitKind.grassroots.value,
                            parent_id=district.id,
                            valid_from=tree_from,
                            is_demo=True,
                        ),
                    )
                    report.units_created += 1
                grassroots.append(unit)
                report.units.append(unit.name)
            others = [
                u
                for u in repo.children(s, tenant.id, province.id)
                if u.id != district.id and u.kind == UnitKind.district.value
            ][:5]
            # Mostly the demo CĐCS; some straight to their district, some to other districts.
            pool = [u.id for u in grassroots] * 5 + [district.id] * 2 + [u.id for u in others]
            report.submissions_created += _seed_submissions(s, cipher, tenant.id, demo.code, campaign_id, pool, now=now)
            # After the CĐCS above: they get their addresses in the same pass.
            report.emails_set += unit_repository.fill_demo_emails(s, tenant.id, DEMO_EMAIL_DOMAIN)
    report.officers = seed_demo_officers(scope, environment=environment)
    return report


def _seed_submissions(
    s: Session,
    cipher: PiiCipher,
    tenant_id: int,
    tenant_code: str,
    campaign_id: int,
    pool: list[int],
    *,
    now: dt.datetime,
) -> int:
    wanted = {_sid(tenant_code, i): i for i in range(PER_TENANT)}
    have = repo.existing_submission_ids(s, tenant_id, wanted)
    rng = random.Random(f"demo-console:{tenant_code}")  # noqa: S311 - demo data, not a secret
    made, signatures = 0, []
    fields = list(FIELD_LABELS)
    for sid, i in wanted.items():
        # Draw for every row, present or not, so that each row is the same on every run.
        name, id_number, phone = _person(rng, i)
        idea = IDEAS[i % len(IDEAS)]
        description = _description(rng, idea, i)
        if i == 3:  # nearly the same text as row 2, sent to another unit: the badge shows it
            description = _description(random.Random(f"{tenant_code}:2"), IDEAS[2], 2) + " Tác giả đã cải tiến thêm."  # noqa: S311
            idea = IDEAS[2]
        if i == 2:
            description = _description(random.Random(f"{tenant_code}:2"), IDEAS[2], 2)  # noqa: S311
        unit_id = pool[i % len(pool)] if i > 3 else pool[0 if i != 3 else 1]
        group = "khoi_co_quan" if idea[0] in ("cai_cach_hanh_chinh", "cong_dong") else "doanh_nghiep"
        submitted = now - dt.timedelta(days=rng.randint(0, 20), minutes=rng.randint(0, 600))
        birth = rng.randint(1965, 2000)
        if sid in have:
            continue
        new_id = repo.insert_submission(
            s,
            {
                "tenant_id": tenant_id,
                "tracking_code": new_tracking_code(tenant_id),
                "submission_id": sid,
                "campaign_id": campaign_id,
                "unit_id": unit_id,
                "full_name": name,
                **identity_columns(cipher, id_number, phone),
                "idea_group": group,
                "field": idea[0] if idea[0] in fields else "khac",
                "title": f"{idea[1]} (mẫu {i + 1})",
                "description": description,
                "birth_year": birth,
                "workplace": None,
                "applied_from": "02/2021",
                "status": "received",
                "submitted_at": submitted,
                "stream_id": "demo",
                "source": "demo",
            },
        )
        assert new_id is not None
        signatures.append(signature_values(tenant_id, new_id, description))
        made += 1
    repo.add_signatures(s, signatures)
    return made
