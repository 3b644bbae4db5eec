"""What each unit owes by each deadline (services/review/workflow/obligations.py) and review's
internal API that notify reads it from (GET /api/v1/internal/obligations, shared/contracts/
obligations.py).

The workflow's rules, on the test's rolled-back transaction and the 2021 campaign's seeded
circulars: Thanh Hóa's 16/4/2021 deadline at the province lists every upper-grassroots unit with
at most 2 and what each has nominated, done once it nominated one; Hà Quảng's 12/4/2021 lists its
own CĐCS only, at least 1 each; the window is [due_from, due_to); a closed round is gone; a unit
answers to the earliest deadline that covers it; units that no longer (or not yet) exist on the
deadline's last day are left out; no query per unit.

The HTTP API, on committed data and the demo campaign: the token's tenant scopes everything —
another tenant's token (CAO_BANG's for Thanh Hóa's deadline) lists none of this tenant's units or
deadlines; the route names no object, so there is no 404 to give, only an answer without ours —
and a token for another audience ("reporting"), with an officer's role, expired or forged is 401;
bad parameters are 422 naming the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Connection, event, select, text

from services.review.accounts.models import Role
from services.review.config import ReviewSettings
from services.review.models import Campaign, Unit
from services.review.workflow import appraisal, nominations, obligations
from services.review.workflow.models import Deadline
from services.review.workflow.models import Round as WfRound
from services.review.workflow.seed import UPPER_GRASSROOTS
from shared.contracts.obligations import REVIEW_AUDIENCE, SYSTEM_ROLE, DeadlineDue, ObligationsOut, UnitDue
from shared.db import tenant_session
from shared.errors import InvalidInput
from shared.servicetoken import derive_key, issue
from tests.review.accounts.conftest import (  # noqa: F401  # fixtures, requested by name
    client_factory,
    make_officer,
    settings_factory,
)
from tests.review.console.conftest import (  # noqa: F401  # fixtures, requested by name
    MadeUnit,
    MakeUnit,
    cipher,
    make_submission,
    make_unit,
    scene,
)
from tests.review.console.selection_scene import DEMO_CAMPAIGN, ROUND, Scene
from tests.review.workflow.factories import CAO_BANG, KEY, THANH_HOA, World, vn

PATH = "/api/v1/internal/obligations"
REAL = "75k-2021"
APRIL_2021 = (vn(2021, 4, 1), vn(2021, 5, 1))
TH_ROUND_1_DUE = vn(2021, 4, 17)  # “chậm nhất đến ngày 16/4/2021”: 24:00 on the 16th
TH_ROUND_2_DUE = vn(2021, 10, 5)  # 04/10/2021
HA_QUANG_DUE = vn(2021, 4, 12)  # “trước ngày 12/4/2021”
TH_PROVINCE = "Liên đoàn Lao động tỉnh Thanh Hóa"


def _of(out: ObligationsOut, campaign: str = REAL) -> list[DeadlineDue]:
    return [d for d in out.deadlines if d.campaign_code == campaign]


def _units(due: DeadlineDue) -> dict[str, UnitDue]:
    return {u.unit_code: u for u in due.units}


def _ready(w: World, unit: Unit, round_code: str = "dot-1") -> str:
    """An initiative held by ``unit``, appraised and confirmed: ready to be nominated upward."""
    sub = w.submission(unit)
    w.appraise([w.officer(unit, Role.tham_dinh)], sub.tracking_code, round_code, at=vn(2021, 4, 2))
    w.confirm(w.officer(unit, Role.chu_tich), sub.tracking_code, at=vn(2021, 4, 3))
    return sub.tracking_code


def _nominate(w: World, unit: Unit, round_code: str = "dot-1", at: dt.datetime | None = None) -> None:
    code = _ready(w, unit, round_code)
    nominations.nominate(w.s, w.officer(unit, Role.chu_tich), code, round_code, at=at or vn(2021, 4, 10))


# --- the workflow's rules --------------------------------------------------------------------


def test_thanh_hoa_round_1_lists_every_upper_grassroots_unit_at_most_two(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    province, bim_son = w.unit("thanh-hoa"), w.unit("H381")
    province.email, bim_son.email = "ldld@thanhhoa.test", "ldld.bimson@thanhhoa.test"
    direct = w.add_unit(province, kind="grassroots_direct", name="CĐCS Công ty Điện lực Thanh Hóa")
    cdcs = w.add_unit(bim_son)  # a CĐCS owes its district union, not the province

    [due] = _of(obligations.obligations(w.s, THANH_HOA, *APRIL_2021))
    assert (due.round_code, due.level_code, due.level_name) == ("dot-1", "tinh", TH_PROVINCE)
    assert due.round_name == "Đợt 1 – Tháng Công nhân năm 2021"
    assert due.due_at == TH_ROUND_1_DUE and due.due_at.utcoffset() is not None
    units = _units(due)
    tree = w.campaign().tree_id
    kinds = Unit.kind.in_(UPPER_GRASSROOTS)
    expected = w.s.scalars(select(Unit.code).where(Unit.tenant_id == THANH_HOA, Unit.tree_id == tree, kinds))
    assert [u.unit_code for u in due.units] == sorted(expected)  # each once, in code order
    assert {"H380", "H381", "H407", "KCN", "N-GD", "N-YT", direct.code} <= set(units)
    assert "thanh-hoa" not in units and cdcs.code not in units
    assert units["H381"] == UnitDue(
        unit_code="H381",
        unit_name="Liên đoàn Lao động thị xã Bỉm Sơn",
        email="ldld.bimson@thanhhoa.test",
        parent_code="thanh-hoa",
        parent_name=TH_PROVINCE,
        parent_email="ldld@thanhhoa.test",
        used=0,
        min_count=None,
        max_count=2,
        fulfilled=False,
        console_path="/console/de-cu?chuong_trinh=75k-2021&dot=dot-1",
    )
    assert (units[direct.code].max_count, units[direct.code].parent_code) == (2, "thanh-hoa")

    _nominate(w, bim_son)
    units = _units(_of(obligations.obligations(w.s, THANH_HOA, *APRIL_2021))[0])
    assert (units["H381"].used, units["H381"].fulfilled) == (1, True)
    assert (units["H380"].used, units["H380"].fulfilled) == (0, False)
    _nominate(w, bim_son)
    units = _units(_of(obligations.obligations(w.s, THANH_HOA, *APRIL_2021))[0])
    assert (units["H381"].used, units["H381"].max_count, units["H381"].fulfilled) == (2, 2, True)


def test_ha_quang_lists_only_its_own_cdcs_at_least_one_each(world: World) -> None:
    w = world.as_tenant(CAO_BANG)
    ha_quang = w.unit("H045")
    ha_quang.email = "ldld.haquang@caobang.test"
    a = w.add_unit(ha_quang, name="Công đoàn cơ sở Trường THCS Xuân Hòa")
    b = w.add_unit(ha_quang, name="Công đoàn cơ sở UBND xã Trường Hà")
    elsewhere = w.add_unit(w.unit("H040"), name="Công đoàn cơ sở Công ty Cấp nước Cao Bằng")
    direct = w.add_unit(w.unit("cao-bang"), kind="grassroots_direct")  # a CĐCS too, outside Hà Quảng

    [due] = _of(obligations.obligations(w.s, CAO_BANG, *APRIL_2021))
    assert (due.level_code, due.due_at) == ("huyen", HA_QUANG_DUE)
    assert due.level_name == "Liên đoàn Lao động huyện và tương đương"
    assert [u.unit_code for u in due.units] == sorted([a.code, b.code])
    assert elsewhere.code not in _units(due) and direct.code not in _units(due)
    for u in due.units:
        assert (u.parent_code, u.parent_name) == ("H045", "Liên đoàn Lao động huyện Hà Quảng")
        assert u.parent_email == "ldld.haquang@caobang.test"
        assert (u.used, u.min_count, u.max_count, u.fulfilled) == (0, 1, None, False)

    _nominate(w, a)
    units = _units(_of(obligations.obligations(w.s, CAO_BANG, *APRIL_2021))[0])
    assert (units[a.code].used, units[a.code].fulfilled) == (1, True)
    assert (units[b.code].used, units[b.code].fulfilled) == (0, False)


def test_the_window_is_due_from_inclusive_to_due_to_exclusive(world: World) -> None:
    w = world.as_tenant(THANH_HOA)

    def rounds(start: dt.datetime, end: dt.datetime) -> list[tuple[str, str, dt.datetime]]:
        return [
            (d.campaign_code, d.round_code, d.due_at)
            for d in obligations.obligations(w.s, THANH_HOA, start, end).deadlines
        ]

    assert rounds(vn(2021, 4, 1), TH_ROUND_1_DUE) == []  # due exactly at the end: not in
    assert rounds(TH_ROUND_1_DUE, vn(2021, 5, 1)) == [(REAL, "dot-1", TH_ROUND_1_DUE)]  # at the start: in
    utc = dt.datetime(2021, 4, 16, 17, 0, tzinfo=dt.UTC)  # the same instant, another offset
    assert rounds(utc, utc + dt.timedelta(seconds=1)) == [(REAL, "dot-1", TH_ROUND_1_DUE)]
    assert rounds(vn(2021, 9, 20), vn(2021, 10, 20)) == [(REAL, "dot-2", TH_ROUND_2_DUE)]
    [second] = _of(obligations.obligations(w.s, THANH_HOA, vn(2021, 9, 20), vn(2021, 10, 20)))
    assert _units(second)["H380"].max_count == 4 and second.round_name.startswith("Đợt 2")
    assert rounds(vn(2021, 5, 1), vn(2021, 6, 30)) == []


def test_a_closed_round_is_left_out(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    assert [d.round_code for d in _of(obligations.obligations(w.s, THANH_HOA, *APRIL_2021))] == ["dot-1"]
    admin = w.officer(w.unit("thanh-hoa"), Role.quan_tri)
    appraisal.close_round(w.s, admin, REAL, "dot-1", at=vn(2021, 4, 10))
    assert _of(obligations.obligations(w.s, THANH_HOA, *APRIL_2021)) == []
    # Round 2 is still open and still owed.
    assert [
        d.round_code for d in obligations.obligations(w.s, THANH_HOA, vn(2021, 9, 20), vn(2021, 10, 20)).deadlines
    ] == ["dot-2"]


def test_a_unit_answers_to_the_earliest_deadline_that_covers_it(world: World) -> None:
    """As the workflow checks a nomination (service.due_at): Hà Quảng's CĐCS are late after
    their 12/4 whatever a later province-wide date says, so they are not reminded of it."""
    w = world.as_tenant(CAO_BANG)
    a, b = w.add_unit(w.unit("H045")), w.add_unit(w.unit("H045"))
    elsewhere = w.add_unit(w.unit("H040"))
    direct = w.add_unit(w.unit("cao-bang"), kind="grassroots_direct")
    rnd = w.s.scalar(
        select(WfRound).where(
            WfRound.tenant_id == CAO_BANG, WfRound.campaign_id == w.campaign().id, WfRound.code == "dot-1"
        )
    )
    assert rnd is not None
    wide = Deadline(tenant_id=CAO_BANG, round_id=rnd.id, level_code="huyen", scope_unit_id=None, due_at=vn(2021, 4, 21))
    w.s.add(wide)
    w.s.flush()

    scoped, later = _of(obligations.obligations(w.s, CAO_BANG, *APRIL_2021))
    assert (scoped.due_at, later.due_at, later.deadline_id) == (HA_QUANG_DUE, vn(2021, 4, 21), wide.id)
    assert set(_units(scoped)) == {a.code, b.code}
    later_units = _units(later)
    assert {elsewhere.code, direct.code} <= set(later_units) and not {a.code, b.code} & set(later_units)
    # No rule covers a CĐCS outside Hà Quảng: it is done once it has nominated one.
    assert (later_units[elsewhere.code].min_count, later_units[elsewhere.code].max_count) == (None, None)

    # The province-wide date moved first: it binds everyone, Hà Quảng's own date binds no one.
    wide.due_at = vn(2021, 4, 5)
    w.s.flush()
    earlier, scoped = _of(obligations.obligations(w.s, CAO_BANG, *APRIL_2021))
    assert earlier.deadline_id == wide.id and scoped.units == []
    assert {a.code, b.code, elsewhere.code, direct.code} <= set(_units(earlier))
    assert _units(earlier)[a.code].min_count == 1  # Hà Quảng's rule still covers its CĐCS


def test_units_that_do_not_exist_on_the_last_day_are_left_out(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    province = w.unit("thanh-hoa")

    def district(name: str, **dates: dt.date) -> Unit:
        u = w.add_unit(province, kind="district", name=name)
        for k, v in dates.items():
            setattr(u, k, v)
        return u

    ended = district("LĐLĐ huyện giải thể ngày 16/4", valid_to=dt.date(2021, 4, 16))  # last day: the 15th
    through = district("LĐLĐ huyện giải thể ngày 17/4", valid_to=dt.date(2021, 4, 17))  # existed all the 16th
    founded_last_day = district("LĐLĐ huyện thành lập ngày 16/4", valid_from=dt.date(2021, 4, 16))
    founded_after = district("LĐLĐ huyện thành lập ngày 17/4", valid_from=dt.date(2021, 4, 17))
    w.s.flush()
    units = _units(_of(obligations.obligations(w.s, THANH_HOA, *APRIL_2021))[0])
    assert through.code in units and founded_last_day.code in units
    assert ended.code not in units and founded_after.code not in units

    assert obligations.last_day(TH_ROUND_1_DUE) == dt.date(2021, 4, 16)
    assert obligations.last_day(dt.datetime(2021, 4, 16, 17, 0, tzinfo=dt.UTC)) == dt.date(2021, 4, 16)
    assert obligations.last_day(vn(2021, 4, 16, 17, 0)) == dt.date(2021, 4, 16)


def test_the_demo_campaign_keeps_the_2021_tree_it_replays(world: World) -> None:
    """The 2025 reform ended every unit of the 2021 tree on 01/7/2025; the demo campaign runs
    on that tree today, so its deadlines still list them."""
    w = world.as_tenant(THANH_HOA)
    assert w.unit("H380").valid_to == dt.date(2025, 7, 1)
    demo = w.campaign(DEMO_CAMPAIGN)
    due = w.s.scalar(
        select(Deadline.due_at)
        .join(WfRound, (WfRound.tenant_id == Deadline.tenant_id) & (WfRound.id == Deadline.round_id))
        .where(Deadline.tenant_id == THANH_HOA, WfRound.campaign_id == demo.id, WfRound.code == "dot-1")
    )
    assert due is not None and due.date() > dt.date(2025, 7, 1)
    [d] = _of(
        obligations.obligations(w.s, THANH_HOA, due - dt.timedelta(days=1), due + dt.timedelta(days=1)), DEMO_CAMPAIGN
    )
    # The campaign's tree only: the 2025 tree has its own N-GD, KCN … in this tenant.
    kinds = Unit.kind.in_(UPPER_GRASSROOTS)
    expected = w.s.scalars(select(Unit.code).where(Unit.tenant_id == THANH_HOA, Unit.tree_id == demo.tree_id, kinds))
    assert [u.unit_code for u in d.units] == sorted(expected)
    assert {"H380", "H407", "KCN", "N-GD"} <= set(_units(d))


def _statements(conn: Connection, run: Callable[[], Any]) -> tuple[Any, int]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(conn, "before_cursor_execute", count)
    try:
        return run(), len(seen)
    finally:
        event.remove(conn, "before_cursor_execute", count)


def test_no_query_per_unit(world: World, conn: Connection) -> None:
    """A few statements per deadline whether it covers ten units or hundreds."""
    w = world.as_tenant(CAO_BANG)
    ha_quang = w.unit("H045")
    for _ in range(10):
        w.add_unit(ha_quang)
    w.s.flush()

    def run() -> ObligationsOut:
        return obligations.obligations(w.s, CAO_BANG, *APRIL_2021)

    few, few_statements = _statements(conn, run)
    w.s.add_all(
        Unit(
            tenant_id=CAO_BANG,
            tree_id=ha_quang.tree_id,
            code=f"CS-HQ-{i:04d}",
            name=f"Công đoàn cơ sở số {i} huyện Hà Quảng",
            kind="grassroots",
            parent_id=ha_quang.id,
            valid_from=dt.date(2008, 8, 1),
        )
        for i in range(400)
    )
    w.s.flush()
    many, many_statements = _statements(conn, run)
    assert [len(d.units) for d in _of(few)] == [10] and [len(d.units) for d in _of(many)] == [410]
    assert many_statements == few_statements <= 8, (few_statements, many_statements)


# --- the query's parameters ------------------------------------------------------------------

OK_FROM, OK_TO = "2021-04-01T00:00:00+07:00", "2021-05-01T00:00:00+07:00"


@pytest.mark.parametrize(
    ("due_from", "due_to", "field", "words"),
    [
        (None, OK_TO, "due_from", "Thiếu tham số due_from"),
        ("", OK_TO, "due_from", "Thiếu tham số due_from"),
        (OK_FROM, None, "due_to", "Thiếu tham số due_to"),
        ("16/04/2021", OK_TO, "due_from", "due_from phải là thời điểm ISO 8601 có múi giờ"),
        ("2021-04-01T00:00:00", OK_TO, "due_from", "có múi giờ"),  # naive: which midnight?
        ("2021-04-01", OK_TO, "due_from", "có múi giờ"),
        (OK_FROM, "ngày mai", "due_to", "due_to phải là thời điểm ISO 8601"),
        (OK_FROM, OK_FROM, "due_to", "due_to phải là thời điểm sau due_from"),
        (OK_TO, OK_FROM, "due_to", "sau due_from"),
        (OK_FROM, "2021-05-31T00:00:01+07:00", "due_to", "không được dài quá 60 ngày"),
    ],
)
def test_bad_windows_are_refused_naming_the_field(
    due_from: str | None, due_to: str | None, field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        obligations.parse_window(due_from, due_to)
    assert err.value.field == field and words in err.value.message and err.value.status_code == 422


def test_good_windows() -> None:
    assert obligations.parse_window(OK_FROM, "2021-05-31T00:00:00+07:00") == (vn(2021, 4, 1), vn(2021, 5, 31))
    assert obligations.parse_window("2021-03-31T17:00:00Z", OK_TO)[0] == vn(2021, 4, 1)
    # "+07:00" typed into a URL unencoded arrives as " 07:00".
    assert obligations.parse_window("2021-04-01T00:00:00 07:00", OK_TO)[0] == vn(2021, 4, 1)


# --- the HTTP API ----------------------------------------------------------------------------


@pytest.fixture
def review(
    client_factory: Callable[..., TestClient],  # noqa: F811  # the fixture imported above
    settings_factory: Callable[..., ReviewSettings],  # noqa: F811
) -> Iterator[tuple[TestClient, bytes]]:
    """The review app and the key it checks service tokens with (notify's, in production)."""
    yield client_factory(), settings_factory().service_token_key()


def _token(key: bytes, tenant_id: int, *, role: str = SYSTEM_ROLE, aud: str = REVIEW_AUDIENCE, ttl: int = 120) -> str:
    return issue(key, tenant_id=tenant_id, officer_id=0, unit_code="", role=role, aud=aud, ttl=ttl)


def _get(c: TestClient, token: str | None, start: dt.datetime, end: dt.datetime) -> Response:
    headers = {"authorization": f"Bearer {token}"} if token is not None else {}
    r: Response = c.get(PATH, params={"due_from": start.isoformat(), "due_to": end.isoformat()}, headers=headers)
    return r


def _demo_deadline(sc: Scene, tenant_id: int) -> Deadline:
    """The tenant's seeded deadline of the demo campaign's round 1 (its dates follow today's)."""
    with tenant_session(sc.factory, tenant_id) as s:
        demo = select(Campaign.id).where(Campaign.code == DEMO_CAMPAIGN).scalar_subquery()
        d = s.scalar(
            select(Deadline)
            .join(WfRound, (WfRound.tenant_id == Deadline.tenant_id) & (WfRound.id == Deadline.round_id))
            .where(Deadline.tenant_id == tenant_id, WfRound.campaign_id == demo, WfRound.code == ROUND)
        )
        assert d is not None
        s.expunge_all()
        return d


DAY = dt.timedelta(days=1)


def test_the_province_reads_its_units_and_a_nomination_turns_one_done(
    review: tuple[TestClient, bytes],
    scene: Scene,  # noqa: F811
) -> None:
    c, key = review
    t = scene.district.tenant_id
    with tenant_session(scene.factory, t) as s:
        s.execute(
            text("UPDATE review.units SET email = :e WHERE tenant_id = :t AND id = :i"),
            {"e": "ldld.thu@thanhhoa.test", "t": t, "i": scene.district.id},
        )
    due = _demo_deadline(scene, t)
    r = _get(c, _token(key, t), due.due_at - DAY, due.due_at + DAY)
    assert r.status_code == 200, r.text
    assert r.json()["deadlines"][0]["due_at"].endswith(("Z", "+00:00"))  # an instant with its offset
    out = ObligationsOut.model_validate_json(r.content)
    assert out.tenant_id == THANH_HOA
    [d] = out.deadlines
    assert (d.deadline_id, d.campaign_code, d.round_code, d.level_code) == (due.id, DEMO_CAMPAIGN, ROUND, "tinh")
    assert d.due_at == due.due_at and d.level_name == TH_PROVINCE
    units = _units(d)
    mine = units[scene.district.code]
    assert (mine.unit_name, mine.email, mine.parent_code, mine.parent_name) == (
        scene.district.name,
        "ldld.thu@thanhhoa.test",
        "thanh-hoa",
        TH_PROVINCE,
    )
    assert (mine.used, mine.min_count, mine.max_count, mine.fulfilled) == (0, None, 2, False)
    assert mine.console_path == "/console/de-cu?chuong_trinh=75k-demo&dot=dot-1"
    assert scene.cdcs.code not in units  # it owes its district union, by the district's own date
    assert "H380" in units

    code = scene.subs[0].tracking_code
    scene.appraise(code)
    scene.confirm(code, KEY)
    with tenant_session(scene.factory, t) as s:
        nominations.nominate(s, scene.as_officer(scene.chair), code, ROUND)
    r = _get(c, _token(key, t), due.due_at - DAY, due.due_at + DAY)
    mine = _units(ObligationsOut.model_validate_json(r.content).deadlines[0])[scene.district.code]
    assert (mine.used, mine.max_count, mine.fulfilled) == (1, 2, True)


def test_another_tenants_token_reads_nothing_of_this_tenant(
    review: tuple[TestClient, bytes],
    scene: Scene,  # noqa: F811
    make_unit: MakeUnit,  # noqa: F811
) -> None:
    c, key = review
    th, cb = _demo_deadline(scene, THANH_HOA), _demo_deadline(scene, CAO_BANG)
    assert cb.due_at < th.due_at
    ha_quang_cdcs: MadeUnit = make_unit(CAO_BANG, "H045", name="CĐCS Trường Tiểu học Sóc Hà")
    start, end = cb.due_at - DAY, th.due_at + DAY  # both tenants' deadlines are in it

    theirs = ObligationsOut.model_validate_json(_get(c, _token(key, CAO_BANG), start, end).content)
    assert theirs.tenant_id == CAO_BANG
    assert [d.deadline_id for d in theirs.deadlines] == [cb.id]
    their_units = {u.unit_code for d in theirs.deadlines for u in d.units}
    assert their_units == {ha_quang_cdcs.code}
    assert scene.district.code not in their_units and "H380" not in their_units

    ours = ObligationsOut.model_validate_json(_get(c, _token(key, THANH_HOA), start, end).content)
    assert [d.deadline_id for d in ours.deadlines] == [th.id]
    our_units = {u.unit_code for d in ours.deadlines for u in d.units}
    assert scene.district.code in our_units and ha_quang_cdcs.code not in our_units

    # A window with only Thanh Hóa's deadline: Cao Bằng's token gets an empty list, not ours.
    r = _get(c, _token(key, CAO_BANG), th.due_at - DAY, th.due_at + DAY)
    assert r.status_code == 200 and r.json() == {"tenant_id": CAO_BANG, "deadlines": []}


def test_tokens_that_are_not_the_platforms_are_refused(review: tuple[TestClient, bytes]) -> None:
    c, key = review
    start, end = APRIL_2021
    refused = {
        "no token": None,
        "not a token": "khong-phai-token",
        "a token's shape, no signature": "v1.e30.e30",
        "for reporting (an officer's dossier token)": _token(key, THANH_HOA, aud="reporting"),
        "for reporting, even with the service role": _token(key, THANH_HOA, role=SYSTEM_ROLE, aud="reporting"),
        "an officer's role": _token(key, THANH_HOA, role="quan_tri"),
        "expired": _token(key, THANH_HOA, ttl=-5),
        "signed with another key": _token(derive_key(b"not-the-platform-key"), THANH_HOA),
    }
    for why, token in refused.items():
        r = _get(c, token, start, end)
        assert r.status_code == 401, why
        assert r.json()["code"] == "chua_dang_nhap" and "deadlines" not in r.json(), why
    basic = c.get(
        PATH,
        params={"due_from": OK_FROM, "due_to": OK_TO},
        headers={"authorization": f"Basic {_token(key, THANH_HOA)}"},
    )
    assert basic.status_code == 401
    # Bad parameters without a valid token: still 401, the caller learns nothing about them.
    assert c.get(PATH, params={"due_from": "x"}).status_code == 401
    assert _get(c, _token(key, THANH_HOA), start, end).status_code == 200  # the same request, signed


def test_bad_parameters_are_422_naming_the_field(review: tuple[TestClient, bytes]) -> None:
    c, key = review
    auth = {"authorization": f"Bearer {_token(key, THANH_HOA)}"}
    r = c.get(PATH, params={"due_from": "hôm qua", "due_to": OK_TO}, headers=auth)
    assert r.status_code == 422
    body = r.json()
    assert (body["code"], body["field"]) == ("du_lieu_khong_hop_le", "due_from")
    assert "due_from phải là thời điểm ISO 8601 có múi giờ" in body["message"]
    r = c.get(PATH, params={"due_from": OK_FROM}, headers=auth)
    assert (r.status_code, r.json()["field"]) == (422, "due_to")
    r = c.get(PATH, params={"due_from": OK_FROM, "due_to": "2021-07-01T00:00:00+07:00"}, headers=auth)
    assert (r.status_code, r.json()["field"]) == (422, "due_to") and "60 ngày" in r.json()["message"]
    # Typed by hand, the plus unencoded: read as the offset it was meant to be.
    r = c.get(f"{PATH}?due_from={OK_FROM}&due_to={OK_TO}", headers=auth)
    assert r.status_code == 200, r.text
    assert [(d.campaign_code, d.round_code) for d in ObligationsOut.model_validate_json(r.content).deadlines] == [
        (REAL, "dot-1")
    ]
