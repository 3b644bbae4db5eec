"""The selection views without HTTP, on the test's rolled-back transaction: a closed round is
read-only, the history reads the audit log in plain Vietnamese, the score form's parsing."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from services.review.accounts.models import Role
from services.review.console import selection
from services.review.console.history import history
from services.review.workflow import appraisal, routing
from services.review.workflow.models import Criterion
from shared.errors import InvalidInput
from tests.review.workflow.factories import FULL_SCORES, THANH_HOA, World, vn


def test_a_closed_round_is_read_only(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    district = w.add_unit(w.unit("thanh-hoa"), kind="district", name="LĐLĐ huyện Đóng Đợt")
    sub = w.submission(district)
    appraiser = w.officer(district, Role.tham_dinh)
    appraisal.score(w.s, appraiser, sub.tracking_code, "dot-1", FULL_SCORES, "Tốt", at=vn(2021, 4, 1))
    before = selection.panel(w.s, appraiser, sub.tracking_code, "dot-1")
    assert before.can_score and before.mean == "8,15" and before.rank == 1
    assert [c.mine for c in before.criteria] == ["8", "9", "7", "8"]

    admin = w.officer(w.unit("thanh-hoa"), Role.quan_tri)
    appraisal.close_round(w.s, admin, "75k-2021", "dot-1", at=vn(2021, 4, 30))
    after = selection.panel(w.s, appraiser, sub.tracking_code, "dot-1")
    assert not after.can_score and not after.can_nominate
    assert after.score_note == "Đợt 1 – Tháng Công nhân năm 2021 đã chốt: điểm thẩm định không sửa được nữa."
    assert after.mean == "8,15"  # still shown
    # Round 2 is still open: the panel offers it.
    assert selection.panel(w.s, appraiser, sub.tracking_code, None).round.code == "dot-2"  # type: ignore[union-attr]


def test_history_in_plain_vietnamese(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    district = w.unit("H380")
    cdcs = w.add_unit(district, name="Công đoàn cơ sở Nhà máy Thử")
    sub = w.submission(district)
    chair = w.officer(district, Role.chu_tich, name="Lê Thị Chủ Tịch")
    routing.route(w.s, chair, sub.tracking_code, cdcs.code)
    appraiser = w.officer(cdcs, Role.tham_dinh, name="Ngô Văn Thẩm Định")
    appraisal.score(w.s, appraiser, sub.tracking_code, "dot-1", FULL_SCORES, at=vn(2021, 4, 1))
    appraisal.score(w.s, appraiser, sub.tracking_code, "dot-1", {"tinh_moi": Decimal("8.5")}, at=vn(2021, 4, 1))
    steps = history(w.s, sub)
    assert [s.what for s in steps] == [
        "Chuyển sáng kiến xuống đơn vị trực thuộc",
        "Chấm điểm thẩm định (Đợt 1 – Tháng Công nhân năm 2021)",
        "Chuyển trạng thái",
        "Sửa điểm thẩm định (Đợt 1 – Tháng Công nhân năm 2021)",
    ]
    assert steps[0].change == "từ Liên đoàn Lao động thành phố Thanh Hóa xuống Công đoàn cơ sở Nhà máy Thử"
    assert steps[0].who.startswith("Lê Thị Chủ Tịch (")
    assert steps[1].change == "Tính mới 8, Hiệu quả và giá trị làm lợi 9, Phạm vi ứng dụng 7, Khả năng nhân rộng 8"
    assert steps[2].change == "từ “Đơn vị đã nhận sáng kiến” sang “Đang được thẩm định”"
    assert steps[3].change == "từ Tính mới 8 thành Tính mới 8,5"
    assert all(re.fullmatch(r"\d\d:\d\d \d\d/\d\d/20\d\d", s.when) for s in steps)


def test_score_form_parsing() -> None:
    rubric = [Criterion(code="tinh_moi", name="Tính mới"), Criterion(code="hieu_qua", name="Hiệu quả")]
    form = {"diem_tinh_moi": " 8,5 ", "diem_hieu_qua": "", "diem_khac": "3"}
    assert selection.parse_scores(form, rubric) == {"tinh_moi": Decimal("8.5")}
    for bad in ("tám", "NaN", "1e999999", "Infinity"):
        with pytest.raises(InvalidInput, match="Tính mới"):
            selection.parse_scores({"diem_tinh_moi": bad}, rubric)
