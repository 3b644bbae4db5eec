"""The two seed tenants run their circulars end to end: from a submission as the ingester
commits it to the Tổng Liên đoàn's decision, with the submitter's tracking answer at the end."""

from __future__ import annotations

import pytest

from services.review.accounts.models import Role
from services.review.audit.service import verify_chain
from services.review.workflow import appraisal, nominations, routing, service
from services.review.workflow.nominations import NotReady
from services.review.workflow.tracking import progress
from shared.errors import Conflict
from tests.review.workflow.factories import CAO_BANG, THANH_HOA, TLD, World, vn


def test_thanh_hoa_round_1_from_submission_to_national_commendation(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    district = w.unit("H380")  # LĐLĐ thành phố Thanh Hóa
    province = w.unit("thanh-hoa")
    cdcs = w.add_unit(district, name="Công đoàn cơ sở Công ty TNHH Bao bì Thanh Hóa")
    sub = w.submission(district)  # the worker named the district union on the portal

    # The district routes it down to the worker's CĐCS.
    d_chair = w.officer(district, Role.chu_tich)
    routed = routing.route(w.s, d_chair, sub.tracking_code, cdcs.code)
    assert routed.holder_unit == cdcs.code

    # The CĐCS appraises with two appraisers, obtains the employer's confirmation, nominates.
    c_chair = w.officer(cdcs, Role.chu_tich)
    c_appraisers = [w.officer(cdcs, Role.tham_dinh) for _ in range(2)]
    w.appraise(c_appraisers, sub.tracking_code, "dot-1", at=vn(2021, 3, 20))
    result = appraisal.appraisal(w.s, c_chair, sub.tracking_code, "dot-1")
    assert len(result.appraisers) == 2 and result.mean is not None
    w.confirm(c_chair, sub.tracking_code, at=vn(2021, 3, 25))
    validity = service.validity(w.s, c_chair, sub.tracking_code, "dot-1", at=vn(2021, 3, 26))
    assert validity.valid, validity.failures
    up = nominations.nominate(w.s, c_chair, sub.tracking_code, "dot-1", at=vn(2021, 4, 1))
    assert (up.to_unit, up.status) == ("H380", "de_cu")

    # The district appraises and sends it to the province, by 16/4/2021.
    w.appraise([w.officer(district, Role.tham_dinh)], sub.tracking_code, "dot-1", at=vn(2021, 4, 5))
    up = nominations.nominate(w.s, d_chair, sub.tracking_code, "dot-1", at=vn(2021, 4, 16, 23, 59))
    assert up.to_unit == "thanh-hoa"

    # The province appraises, commends, and proposes it to the Tổng Liên đoàn.
    p_chair = w.officer(province, Role.chu_tich)
    w.appraise([w.officer(province, Role.tham_dinh)], sub.tracking_code, "dot-1", at=vn(2021, 4, 20))
    nominations.commend(w.s, p_chair, sub.tracking_code, "dot-1", at=vn(2021, 4, 25))
    up = nominations.nominate(w.s, p_chair, sub.tracking_code, "dot-1", at=vn(2021, 4, 26))
    assert (up.to_level, up.status) == ("toan_quoc", "de_cu_toan_quoc")

    # The Tổng Liên đoàn sees it in its own tenant, with the public summary, and commends it.
    w.as_tenant(TLD)
    tld = w.officer(w.unit("tld"), Role.chu_tich)
    inbox = [n for n in nominations.national_list(w.s, tld) if n.tracking_code == sub.tracking_code]
    assert len(inbox) == 1
    assert inbox[0].source_tenant_id == THANH_HOA and inbox[0].author == "Lê Văn Tâm"
    assert any("Liên đoàn Lao động tỉnh Thanh Hóa biểu dương" in a for a in inbox[0].awards)
    nominations.national_decide(w.s, tld, THANH_HOA, sub.id, "bieu_duong", "Sáng kiến tiêu biểu")

    # The submitter reads every step in plain Vietnamese.
    w.as_tenant(THANH_HOA)
    state = progress(w.s, w.s.merge(sub))
    assert state.status == "tld_bieu_duong"
    assert state.label == "Được Tổng Liên đoàn Lao động Việt Nam biểu dương"
    labels = [step.label for step in state.history]
    assert labels[0].startswith("Đã chuyển đến Công đoàn cơ sở Công ty TNHH Bao bì")
    assert "Đang được thẩm định" in labels
    assert "Đã được giới thiệu lên Liên đoàn Lao động thành phố Thanh Hóa" in labels
    assert "Đã được giới thiệu lên Liên đoàn Lao động tỉnh Thanh Hóa" in labels
    assert any("đề nghị Tổng Liên đoàn" in label for label in labels)
    assert verify_chain(w.s, THANH_HOA).ok
    w.as_tenant(TLD)
    assert verify_chain(w.s, TLD).ok


def _ready_at_district(w: World, district_code: str, n: int, *, round_code: str = "dot-1") -> list[str]:
    """n initiatives held by a district, appraised and confirmed, ready to go to the province."""
    district = w.unit(district_code)
    appraiser = w.officer(district, Role.tham_dinh)
    chair = w.officer(district, Role.chu_tich)
    codes = []
    for _ in range(n):
        sub = w.submission(district)
        w.appraise([appraiser], sub.tracking_code, round_code, at=vn(2021, 4, 2))
        w.confirm(chair, sub.tracking_code, at=vn(2021, 4, 3))
        codes.append(sub.tracking_code)
    return codes


def test_thanh_hoa_quota_is_at_most_two_in_round_1_and_four_in_round_2(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    chair = w.officer(w.unit("H381"), Role.chu_tich)
    codes = _ready_at_district(w, "H381", 3)
    for code in codes[:2]:
        nominations.nominate(w.s, chair, code, "dot-1", at=vn(2021, 4, 10))
    with pytest.raises(Conflict, match="không quá 2 sáng kiến"):
        nominations.nominate(w.s, chair, codes[2], "dot-1", at=vn(2021, 4, 10))
    report = nominations.quota_report(w.s, chair, "75k-2021", "dot-1")
    assert [(i.unit, i.used, i.max_count, i.full) for i in report.items] == [("H381", 2, 2, True)]

    codes = _ready_at_district(w, "H381", 5, round_code="dot-2")
    for code in codes[:4]:
        nominations.nominate(w.s, chair, code, "dot-2", at=vn(2021, 9, 30))
    with pytest.raises(Conflict, match="không quá 4 sáng kiến"):
        nominations.nominate(w.s, chair, codes[4], "dot-2", at=vn(2021, 9, 30))


def test_thanh_hoa_deadline_of_the_province_and_round_2_stops_at_the_province(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    chair = w.officer(w.unit("H382"), Role.chu_tich)
    [late] = _ready_at_district(w, "H382", 1)
    [on_time] = _ready_at_district(w, "H382", 1, round_code="dot-2")
    with pytest.raises(NotReady) as err:
        nominations.nominate(w.s, chair, late, "dot-1", at=vn(2021, 4, 17, 0, 0))
    assert [f["code"] for f in err.value.extra["failures"]] == ["dung_han"]
    assert "16/04/2021" in err.value.extra["failures"][0]["detail"]

    # Round 2: the province only commends; it proposes nothing to the TLĐ.
    nominations.nominate(w.s, chair, on_time, "dot-2", at=vn(2021, 9, 1))
    province = w.unit("thanh-hoa")
    p_chair = w.officer(province, Role.chu_tich)
    w.appraise([w.officer(province, Role.tham_dinh)], on_time, "dot-2", at=vn(2021, 9, 10))
    nominations.commend(w.s, p_chair, on_time, "dot-2", at=vn(2021, 10, 5))
    with pytest.raises(Conflict, match="chỉ biểu dương"):
        nominations.nominate(w.s, p_chair, on_time, "dot-2", at=vn(2021, 10, 5))


def test_cao_bang_ha_quang_from_cdcs_to_national(world: World) -> None:
    w = world.as_tenant(CAO_BANG)
    ha_quang = w.unit("H045")
    province = w.unit("cao-bang")
    cdcs_a = w.add_unit(ha_quang, name="Công đoàn cơ sở Trường THCS Xuân Hòa")
    cdcs_b = w.add_unit(ha_quang, name="Công đoàn cơ sở UBND xã Trường Hà")
    sub = w.submission(ha_quang, field="cai_cach_hanh_chinh", title="Số hoá sổ theo dõi đoàn viên")
    h_chair = w.officer(ha_quang, Role.chu_tich)
    routing.route(w.s, h_chair, sub.tracking_code, cdcs_a.code)

    a_chair = w.officer(cdcs_a, Role.chu_tich)
    w.appraise([w.officer(cdcs_a, Role.tham_dinh)], sub.tracking_code, "dot-1", at=vn(2021, 4, 1))
    w.confirm(a_chair, sub.tracking_code, at=vn(2021, 4, 2))

    # At least one per CĐCS to Hà Quảng: both owe one before anything is sent.
    report = nominations.quota_report(w.s, h_chair, "75k-2021", "dot-1")
    assert set(report.below_minimum) == {cdcs_a.code, cdcs_b.code}
    assert all(i.min_count == 1 and i.max_count is None for i in report.items)

    # “trước ngày 12/4/2021”: 00:00 on 12/4 is already too late.
    with pytest.raises(NotReady, match="Nộp đúng hạn"):
        nominations.nominate(w.s, a_chair, sub.tracking_code, "dot-1", at=vn(2021, 4, 12, 0, 0))
    nominations.nominate(w.s, a_chair, sub.tracking_code, "dot-1", at=vn(2021, 4, 11, 23, 0))
    report = nominations.quota_report(w.s, h_chair, "75k-2021", "dot-1")
    assert report.below_minimum == [cdcs_b.code]

    w.appraise([w.officer(ha_quang, Role.tham_dinh)], sub.tracking_code, "dot-1", at=vn(2021, 4, 13))
    assert nominations.nominate(w.s, h_chair, sub.tracking_code, "dot-1", at=vn(2021, 4, 14)).to_unit == "cao-bang"
    p_chair = w.officer(province, Role.chu_tich)
    w.appraise([w.officer(province, Role.tham_dinh)], sub.tracking_code, "dot-1", at=vn(2021, 4, 20))
    assert nominations.nominate(w.s, p_chair, sub.tracking_code, "dot-1", at=vn(2021, 4, 25)).to_level == "toan_quoc"

    w.as_tenant(TLD)
    tld = w.officer(w.unit("tld"), Role.quan_tri)
    mine = [n for n in nominations.national_list(w.s, tld) if n.tracking_code == sub.tracking_code]
    assert [(n.source_tenant_id, n.title) for n in mine] == [(CAO_BANG, "Số hoá sổ theo dõi đoàn viên")]
    w.as_tenant(CAO_BANG)
    assert progress(w.s, w.s.merge(sub)).status == "de_cu_toan_quoc"


def test_the_national_confederation_sees_only_what_was_nominated(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    w.submission(w.unit("H380"))
    w.as_tenant(TLD)
    from sqlalchemy import text

    for table in ("submissions", "wf_cases", "wf_nominations", "units"):
        query = f"SELECT count(*) FROM review.{table} WHERE tenant_id <> 999"  # noqa: S608  # fixed table names
        rows = w.s.execute(text(query)).scalar()
        assert rows == 0, table
