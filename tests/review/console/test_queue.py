"""The queue and the detail through the console's pages: search without diacritics, filters,
the officer's subtree only, masked personal data, duplicates flagged without blocking."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from services.review.accounts.models import Role
from tests.review.console.conftest import (
    MakeOfficer,
    MakeSubmission,
    MakeUnit,
    officer_at,
    signed_in,
)

CODE = re.compile(r'href="/console/sang-kien/([0-9]+-[0-9A-Z]{4}-[0-9A-Z]{4})"')
Clients = Callable[..., TestClient]


def codes(html: str) -> set[str]:
    return set(CODE.findall(html))


def items(html: str) -> int:
    return html.count('<li class="item">')


def test_search_ignores_diacritics_case_and_d(
    client_factory: Clients, make_officer: MakeOfficer, make_unit: MakeUnit, make_submission: MakeSubmission
) -> None:
    unit = make_unit()
    a = make_submission(unit, full_name="Nguyễn Văn A", title="Cải tiến dây chuyền")
    d = make_submission(unit, full_name="Đặng Thị Đào", title="Sổ tay an toàn")
    t = make_submission(unit, full_name="Lê Văn Tám", title="Tủ thuốc cộng đồng Lũng Nặm")
    c, _ = signed_in(client_factory, officer_at(make_officer, unit))

    def found(q: str) -> set[str]:
        r = c.get("/console/sang-kien", params={"q": q})
        assert r.status_code == 200, r.text
        return codes(r.text)

    assert found("nguyen van a") == {a.tracking_code}
    assert found("NGUYỄN văn") == {a.tracking_code}
    assert found("dang thi dao") == {d.tracking_code}  # đ folds to d
    assert found("đào") == {d.tracking_code}
    assert found("lung nam") == {t.tracking_code}  # the title too
    assert found(a.tracking_code.lower()) == {a.tracking_code}  # and the tracking code
    assert found("100%_") == set()  # LIKE's wildcards mean themselves
    assert found("") == {a.tracking_code, d.tracking_code, t.tracking_code}


def test_filters(
    client_factory: Clients, make_officer: MakeOfficer, make_unit: MakeUnit, make_submission: MakeSubmission
) -> None:
    parent = make_unit(kind="district")
    x, y = make_unit(parent_code=parent.code), make_unit(parent_code=parent.code)
    s1 = make_submission(x, field="san_xuat", idea_group="doanh_nghiep")
    s2 = make_submission(y, field="cong_dong", idea_group="khoi_co_quan", status="hop_le")
    s3 = make_submission(y, field="cong_dong", idea_group="doanh_nghiep", source="paper")
    c, _ = signed_in(client_factory, officer_at(make_officer, parent))

    def found(**params: str) -> set[str]:
        r = c.get("/console/sang-kien", params=params)
        assert r.status_code == 200, r.text
        return codes(r.text)

    assert found() == {s1.tracking_code, s2.tracking_code, s3.tracking_code}
    assert found(linh_vuc="cong_dong") == {s2.tracking_code, s3.tracking_code}
    assert found(nhom="khoi_co_quan") == {s2.tracking_code}
    assert found(trang_thai="hop_le") == {s2.tracking_code}
    assert found(don_vi=str(x.id)) == {s1.tracking_code}
    assert found(nguon="paper") == {s3.tracking_code}
    assert found(linh_vuc="cong_dong", nhom="doanh_nghiep") == {s3.tracking_code}
    assert found(chuong_trinh="75k-2021") == set()
    assert c.get("/console/sang-kien", params={"chuong_trinh": "khong-co"}).status_code == 404


def test_pages_of_25(
    client_factory: Clients, make_officer: MakeOfficer, make_unit: MakeUnit, make_submission: MakeSubmission
) -> None:
    unit = make_unit()
    made = {make_submission(unit, sign=False).tracking_code for _ in range(27)}
    c, _ = signed_in(client_factory, officer_at(make_officer, unit))
    first = c.get("/console/sang-kien").text
    second = c.get("/console/sang-kien", params={"trang": 2}).text
    assert items(first) == 25 and items(second) == 2
    assert codes(first) | codes(second) == made
    assert "27 sáng kiến · trang 1/2" in first
    assert "trang=2" in first


def test_only_the_officers_subtree(
    client_factory: Clients, make_officer: MakeOfficer, make_unit: MakeUnit, make_submission: MakeSubmission
) -> None:
    parent = make_unit(kind="district")
    mine, sibling = make_unit(parent_code=parent.code), make_unit(parent_code=parent.code)
    below = make_unit(parent_code=mine.code)
    s_mine, s_below = make_submission(mine), make_submission(below)
    s_sibling, s_parent = make_submission(sibling), make_submission(parent)
    c, _ = signed_in(client_factory, officer_at(make_officer, mine))
    assert codes(c.get("/console/sang-kien").text) == {s_mine.tracking_code, s_below.tracking_code}
    for outside in (s_sibling, s_parent):
        r = c.get(f"/console/sang-kien/{outside.tracking_code}")
        assert r.status_code == 404
        assert "Không tìm thấy sáng kiến" in r.text
    assert c.get("/console/sang-kien", params={"don_vi": str(sibling.id)}).status_code == 404
    assert c.get("/console/sang-kien", params={"don_vi": "abc"}).status_code == 404
    assert c.get(f"/console/sang-kien/{s_below.tracking_code}").status_code == 200
    # The parent's officer sees all four.
    c2, _ = signed_in(client_factory, officer_at(make_officer, parent))
    assert len(codes(c2.get("/console/sang-kien").text)) == 4


def test_personal_data_masked(
    client_factory: Clients, make_officer: MakeOfficer, make_unit: MakeUnit, make_submission: MakeSubmission
) -> None:
    unit = make_unit()
    s = make_submission(unit, id_number="038190012345", phone="0912345678", full_name="Phạm Thị Mẫu")
    c, _ = signed_in(client_factory, officer_at(make_officer, unit))
    listing = c.get("/console/sang-kien").text
    assert "Phạm Thị Mẫu" in listing
    assert "345" not in listing.replace(s.tracking_code, "") and "678" not in listing
    page = c.get(f"/console/sang-kien/{s.tracking_code}")
    assert page.status_code == 200
    assert "*********345" in page.text and "*******678" in page.text
    assert "038190012345" not in page.text and "0912345678" not in page.text
    assert "Đơn vị đã nhận sáng kiến" in page.text  # the status in plain Vietnamese
    # A code typed loosely still opens it (lower case, spaces).
    loose = s.tracking_code.lower().replace("-", " ")
    assert c.get(f"/console/sang-kien/{loose}").status_code == 200


def test_duplicates_flagged_not_blocking(
    client_factory: Clients, make_officer: MakeOfficer, make_unit: MakeUnit, make_submission: MakeSubmission
) -> None:
    parent = make_unit(kind="district")
    x, y = make_unit(parent_code=parent.code), make_unit(parent_code=parent.code)
    text = (
        "Lắp tấm che an toàn cho máy cắt vải của xưởng may số hai, giảm hẳn tai nạn ở tay và "
        "giúp công nhân yên tâm làm việc trong ca đêm"
    )
    same1 = make_submission(x, id_number="038099000111", phone="0987000111")
    same2 = make_submission(y, id_number="038099000111", phone="0987000222")  # same ID number
    phone2 = make_submission(y, id_number="038099000999", phone="0987000111")  # same phone
    near1 = make_submission(x, description=text)
    near2 = make_submission(y, description=text.upper().replace("ca đêm", "ca đêm.") + " ")
    alone = make_submission(x)
    # Rows the ingester wrote without a signature are signed when the queue is opened.
    near3 = make_submission(y, description="Lắp tấm che an toàn cho máy cắt vải " + text[36:], sign=False)
    c, _ = signed_in(client_factory, officer_at(make_officer, parent, Role.chu_tich))
    html = c.get("/console/sang-kien").text
    cards = {m: html[html.index(m) :].split('<li class="item">')[0] for m in codes(html)}
    assert len(cards) == 7  # nothing blocked: every one is in the queue
    assert "Cùng người nộp: 2 sáng kiến khác" in cards[same1.tracking_code]
    assert "Cùng người nộp: 1 sáng kiến khác" in cards[same2.tracking_code]
    assert "Cùng người nộp: 1 sáng kiến khác" in cards[phone2.tracking_code]
    assert "Nội dung gần trùng: 2" in cards[near1.tracking_code]
    assert "Nội dung gần trùng" in cards[near3.tracking_code]
    assert "Cùng người nộp" not in cards[alone.tracking_code]
    assert "gần trùng" not in cards[alone.tracking_code]
    detail = c.get(f"/console/sang-kien/{near1.tracking_code}").text
    assert near2.tracking_code in detail and near3.tracking_code in detail
    assert "Có thể trùng lặp" in detail
    # An officer of only x sees that a duplicate exists elsewhere, not which one.
    cx, _ = signed_in(client_factory, officer_at(make_officer, x))
    detail_x = cx.get(f"/console/sang-kien/{same1.tracking_code}").text
    assert same2.tracking_code not in detail_x
    assert "2 sáng kiến ở đơn vị ngoài phạm vi phụ trách của bạn" in detail_x
