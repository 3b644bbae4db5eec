"""The rules one by one: the confirmation link, validity by name, complaints that freeze,
trade secrets, quota overrides, routing, and scores frozen when a round closes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.review.accounts.models import Role
from services.review.audit.service import history, verify_chain
from services.review.workflow import appraisal, confirmation, nominations, routing, service
from services.review.workflow.confirmation import LinkExpired
from services.review.workflow.nominations import NotReady
from services.review.workflow.schemas import ConfirmIn
from services.review.workflow.tokens import derive_key
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.review.workflow.factories import KEY, THANH_HOA, World, vn

BODY = ConfirmIn(name="Trần Thị Lan", title="Giám đốc", applied_on=dt.date(2021, 3, 2))


def _link(w: World, code: str, at: dt.datetime, ttl: dt.timedelta = dt.timedelta(days=7)) -> str:
    chair = w.officer(w.unit("H380"), Role.chu_tich)
    return confirmation.create_link(w.s, chair, code, key=KEY, ttl=ttl, base_url="http://x", at=at).token


def test_confirmation_link_is_signed_expiring_and_one_use(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    sub = w.submission(w.unit("H380"))
    token = _link(w, sub.tracking_code, vn(2021, 3, 20))
    claims = confirmation.claims_of(KEY, token)
    assert confirmation.view(w.s, claims, at=vn(2021, 3, 21)).confirmed is False

    # Altered, or signed with another key: not ours.
    tenant, cid, exp, sig = token.split(".")
    for forged in (f"{tenant}.{int(cid) + 1}.{exp}.{sig}", f"{tenant}.{cid}.{int(exp) + 999}.{sig}", token[:-2] + "xx"):
        with pytest.raises(NotFound):
            confirmation.claims_of(KEY, forged)
    with pytest.raises(NotFound):
        confirmation.claims_of(derive_key(b"another key"), token)

    out = confirmation.confirm(w.s, claims, BODY, at=vn(2021, 3, 21))
    assert (out.confirmed, out.confirmer_name, out.applied_on) == (True, "Trần Thị Lan", dt.date(2021, 3, 2))
    with pytest.raises(Conflict, match="đã được sử dụng"):
        confirmation.confirm(w.s, claims, BODY, at=vn(2021, 3, 21, 1))

    other = w.submission(w.unit("H380"))
    expired = confirmation.claims_of(KEY, _link(w, other.tracking_code, vn(2021, 3, 20), dt.timedelta(hours=1)))
    with pytest.raises(LinkExpired):
        confirmation.view(w.s, expired, at=vn(2021, 3, 20, 2))
    with pytest.raises(LinkExpired):
        confirmation.confirm(w.s, expired, BODY, at=vn(2021, 3, 20, 2))
    assert [r.action for r in history(w.s, THANH_HOA, "submission", sub.id)] == [
        "gui_link_xac_nhan",
        "xac_nhan_ap_dung",
    ]


def test_validity_names_each_failing_condition(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    district = w.unit("H380")
    chair = w.officer(district, Role.chu_tich)
    sub = w.submission(
        district, submitted_at=vn(2021, 4, 21, 0, 5), position=None, benefit=" ", applied_from="tháng 1/2021"
    )
    service.file_complaint(w.s, chair, sub.tracking_code, kind="tac_gia", body="Trùng với sáng kiến của tôi")
    service.file_complaint(w.s, chair, sub.tracking_code, kind="noi_dung", body="Số liệu làm lợi chưa đúng")
    out = service.validity(w.s, chair, sub.tracking_code, "dot-1", at=vn(2021, 4, 10))
    assert not out.valid
    by_code = {f.code: f for f in out.failures}
    assert list(by_code) == [
        "dung_han",
        "day_du",
        "xac_nhan",
        "khong_khieu_nai",
        "khong_tranh_chap",
        "thoi_gian_ap_dung",
    ]
    assert by_code["day_du"].detail == "còn thiếu: chức vụ, hiệu quả, giá trị làm lợi, phạm vi ứng dụng"
    assert by_code["khong_tranh_chap"].label == "Không có tranh chấp về quyền tác giả tại thời điểm xét chọn"
    assert "02/2021 – 05/2021" in (by_code["thoi_gian_ap_dung"].detail or "")


def test_a_complaint_freezes_nomination_until_resolved_with_a_reason(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    district = w.unit("H384")
    chair = w.officer(district, Role.chu_tich)
    appraiser = w.officer(district, Role.tham_dinh)
    sub = w.submission(district)
    w.appraise([appraiser], sub.tracking_code, "dot-1", at=vn(2021, 4, 1))
    w.confirm(chair, sub.tracking_code, at=vn(2021, 4, 2))
    complaint = service.file_complaint(w.s, appraiser, sub.tracking_code, kind="ket_qua", body="Kết quả chưa đúng")
    assert service.get_case(w.s, chair, sub.tracking_code).status == "tam_dung"
    with pytest.raises(NotReady, match="Không có khiếu nại"):
        nominations.nominate(w.s, chair, sub.tracking_code, "dot-1", at=vn(2021, 4, 5))
    with pytest.raises(Forbidden):
        service.resolve_complaint(w.s, appraiser, complaint.id, "Đã xác minh")
    with pytest.raises(InvalidInput) as err:
        service.resolve_complaint(w.s, chair, complaint.id, "   ")
    assert err.value.field == "reason"
    resolved = service.resolve_complaint(w.s, chair, complaint.id, "Đã xác minh số liệu với đơn vị")
    assert resolved.resolution == "Đã xác minh số liệu với đơn vị"
    assert service.get_case(w.s, chair, sub.tracking_code).status == "dang_tham_dinh"
    assert nominations.nominate(w.s, chair, sub.tracking_code, "dot-1", at=vn(2021, 4, 5)).to_unit == "thanh-hoa"
    rows = history(w.s, THANH_HOA, "complaint", complaint.id)
    assert [r.action for r in rows] == ["khieu_nai", "giai_quyet_khieu_nai"]
    assert rows[1].reason == "Đã xác minh số liệu với đơn vị"


def test_trade_secret_shows_only_name_effect_and_award_outside_its_unit(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    district = w.unit("H385")
    cdcs = w.add_unit(district)
    sub = w.submission(district)
    d_chair = w.officer(district, Role.chu_tich)
    routing.route(w.s, d_chair, sub.tracking_code, cdcs.code)
    c_chair = w.officer(cdcs, Role.chu_tich)
    with pytest.raises(Conflict):
        routing.set_trade_secret(w.s, d_chair, sub.tracking_code, True)  # not its own unit
    routing.set_trade_secret(w.s, c_chair, sub.tracking_code, True)
    inside = service.get_case(w.s, c_chair, sub.tracking_code)
    outside = service.get_case(w.s, d_chair, sub.tracking_code)
    assert inside.description and inside.author == "Lê Văn Tâm" and not inside.masked
    assert outside.masked and (outside.title, outside.benefit) == (sub.title, sub.benefit)
    assert (outside.description, outside.author, outside.field, outside.workplace) == (None, None, None, None)
    with pytest.raises(NotFound):
        service.unmask(w.s, d_chair, sub.tracking_code, w.cipher)
    personal = service.unmask(w.s, c_chair, sub.tracking_code, w.cipher)
    assert (personal.id_number, personal.phone) == ("001203004567", "0912345678")
    unmasked = [r for r in history(w.s, THANH_HOA, "submission", sub.id) if r.action == "xem_du_lieu_ca_nhan"]
    assert len(unmasked) == 1 and "0912345678" not in str(unmasked[0].after)


def test_trade_secret_reaches_the_confederation_as_a_summary_only(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    province = w.unit("thanh-hoa")
    sub = w.submission(province)
    chair = w.officer(province, Role.chu_tich)
    routing.set_trade_secret(w.s, chair, sub.tracking_code, True)
    w.appraise([w.officer(province, Role.tham_dinh)], sub.tracking_code, "dot-1", at=vn(2021, 4, 1))
    w.confirm(chair, sub.tracking_code, at=vn(2021, 4, 2))
    nominations.commend(w.s, chair, sub.tracking_code, "dot-1", "Bằng khen LĐLĐ tỉnh", at=vn(2021, 4, 3))
    nominations.nominate(w.s, chair, sub.tracking_code, "dot-1", at=vn(2021, 4, 3))
    row = w.s.execute(
        text(
            "SELECT title, summary, author, field, benefit, awards, trade_secret FROM review.national_nominations "
            "WHERE source_tenant_id = 38 AND source_submission_id = :s"
        ),
        {"s": sub.id},
    ).one()  # the province reads back what it sent (policy source_tenant_reads)
    assert row == (sub.title, None, None, None, sub.benefit, ["Bằng khen LĐLĐ tỉnh"], True)


def test_officers_act_only_within_their_unit_subtree(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    sub = w.submission(w.unit("H386"))
    neighbour = w.officer(w.unit("H387"), Role.chu_tich)
    with pytest.raises(NotFound):
        service.get_case(w.s, neighbour, sub.tracking_code)
    with pytest.raises(NotFound):
        routing.route(w.s, neighbour, sub.tracking_code, "X")
    assert sub.tracking_code not in {c.tracking_code for c in service.list_cases(w.s, neighbour)}
    province = w.officer(w.unit("thanh-hoa"), Role.tham_dinh)
    assert service.get_case(w.s, province, sub.tracking_code).holder_unit == "H386"  # above it: sees it
    with pytest.raises(Conflict, match="đang do Liên đoàn Lao động huyện Bá Thước xem xét"):
        appraisal.score(w.s, province, sub.tracking_code, "dot-1", {"tinh_moi": Decimal(5)})
    with pytest.raises(NotFound, match="không có đơn vị trực thuộc"):
        routing.route(w.s, w.officer(w.unit("H386"), Role.chu_tich), sub.tracking_code, "H387")


def test_quota_override_needs_an_administrator_and_a_reason(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    district = w.unit("H388")
    chair = w.officer(district, Role.chu_tich)
    admin = w.officer(w.unit("thanh-hoa"), Role.quan_tri)
    appraiser = w.officer(district, Role.tham_dinh)
    codes = []
    for _ in range(3):
        sub = w.submission(district)
        w.appraise([appraiser], sub.tracking_code, "dot-1", at=vn(2021, 4, 1))
        w.confirm(chair, sub.tracking_code, at=vn(2021, 4, 2))
        codes.append(sub.tracking_code)
    for code in codes[:2]:
        nominations.nominate(w.s, chair, code, "dot-1", at=vn(2021, 4, 5))
    with pytest.raises(Forbidden):
        nominations.override_quota(w.s, chair, "75k-2021", "dot-1", "H388", 1, "xin thêm")
    with pytest.raises(InvalidInput):
        nominations.override_quota(w.s, admin, "75k-2021", "dot-1", "H388", 1, " ")
    row = nominations.override_quota(w.s, admin, "75k-2021", "dot-1", "H388", 1, "Sáng kiến xuất sắc thứ ba")
    assert (row.used, row.max_count, row.extra, row.full) == (2, 2, 1, False)
    third = nominations.nominate(w.s, chair, codes[2], "dot-1", at=vn(2021, 4, 6))
    assert third.over_quota
    logged = w.s.execute(
        text(
            "SELECT reason, before, after FROM review.audit_log WHERE tenant_id = 38 AND action = 'vuot_chi_tieu' "
            "AND after->>'unit' = 'H388'"
        )
    ).all()
    assert [(r[0], r[1]["extra"], r[2]["extra"]) for r in logged] == [("Sáng kiến xuất sắc thứ ba", 0, 1)]


def test_closing_a_round_freezes_its_scores_and_logs_the_snapshot_hash(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    district = w.unit("H389")
    appraisers = [w.officer(district, Role.tham_dinh) for _ in range(2)]
    subs = [w.submission(district, submitted_at=vn(2021, 3, 12 - i)) for i in range(2)]  # the second is earlier
    for sub in subs:
        w.appraise(appraisers, sub.tracking_code, "dot-2", at=vn(2021, 9, 1))
    ranking = appraisal.ranking(w.s, appraisers[0], "75k-2021", "dot-2")
    assert [i.rank for i in ranking.items] == [1, 2]
    # Same scores on every criterion: the earlier submission ranks first.
    assert [i.tracking_code for i in ranking.items] == [subs[1].tracking_code, subs[0].tracking_code]
    assert ranking.items[1].tie_break == "gửi sớm hơn"
    admin = w.officer(w.unit("thanh-hoa"), Role.quan_tri)
    with pytest.raises(Forbidden):
        appraisal.close_round(w.s, w.officer(district, Role.quan_tri), "75k-2021", "dot-2")
    closed = appraisal.close_round(w.s, admin, "75k-2021", "dot-2", at=vn(2021, 10, 5))
    assert closed.scores >= 8 and len(closed.snapshot_hash) == 64
    with pytest.raises(Conflict, match="đã kết thúc"):
        appraisal.score(w.s, appraisers[0], subs[0].tracking_code, "dot-2", {"tinh_moi": Decimal(1)})
    with pytest.raises(DBAPIError, match="đã được chốt"), w.s.begin_nested():  # the trigger, past the service
        w.s.execute(
            text("UPDATE review.wf_scores SET score = 10 WHERE tenant_id = 38 AND unit_id = :u"), {"u": district.id}
        )
    logged = w.s.execute(
        text(
            "SELECT after FROM review.audit_log WHERE tenant_id = 38 AND action = 'chot_dot' ORDER BY seq DESC LIMIT 1"
        )
    ).scalar_one()
    assert logged["snapshot_sha256"] == closed.snapshot_hash
    assert verify_chain(w.s, THANH_HOA).ok
