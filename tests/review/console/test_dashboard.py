"""The charts of “Tiến độ”: the numbers they draw are the rows the test made (read back from each
chart's table and its SVG), days are Vietnam's, targets are where the circulars put them, text
is escaped, and another tenant's officer gets 404 for this tenant's unit."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from services.review import leaderboard
from services.review.accounts.models import Role
from services.review.console.dashboard import charts, cumulative_targets
from services.review.console.progress import grassroots_taking_part, progress
from shared.charts import Bar, Target, axis_top, bar_chart, cumulative_chart, decimal, nice_max, number, wrap
from shared.contracts.leaderboard import LEADERBOARD_VERSION_KEY
from shared.db import make_sessionmaker, tenant_scope, tenant_session
from shared.timeutil import VN_TZ
from tests.review.accounts.conftest import TLD
from tests.review.console.conftest import (
    CAO_BANG,
    THANH_HOA,
    MakeOfficer,
    MakeSubmission,
    MakeUnit,
    officer_at,
    signed_in,
)
from tests.review.console.test_progress import principal

DEMO = "75k-demo"


class Figures(HTMLParser):
    """Each chart's figure on a page: its caption, the rows of its data table, its SVG's texts."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.figures: dict[str, dict[str, list[list[str]] | list[str] | str]] = {}
        self._id: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "figure":
            self._id = a.get("id") or ""
            self.figures[self._id] = {"rows": [], "svg": [], "caption": ""}
        self._in.append(tag)
        if self._id is None:
            return
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if self._in:
            self._in.pop()
        if self._id is None:
            return
        fig = self.figures[self._id]
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            rows = fig["rows"]
            assert isinstance(rows, list)
            rows.append(self._row)  # type: ignore[arg-type]
            self._row = None
        elif tag == "figure":
            self._id = None

    def handle_data(self, data: str) -> None:
        if self._id is None:
            return
        fig = self.figures[self._id]
        if self._cell is not None:
            self._cell.append(data)
        elif self._in and self._in[-1] == "text":
            svg = fig["svg"]
            assert isinstance(svg, list)
            svg.append(data)  # type: ignore[arg-type]
        elif self._in and self._in[-1] == "figcaption":
            fig["caption"] = data

    def table(self, chart_id: str) -> dict[str, list[str]]:
        rows = self.figures[chart_id]["rows"]
        assert isinstance(rows, list)
        return {r[0]: r[1:] for r in rows[1:]}  # type: ignore[index, misc]


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=VN_TZ)


def test_the_charts_draw_the_rows_made(
    app_engine: Engine,
    client_factory: Callable[..., TestClient],
    make_officer: MakeOfficer,
    make_unit: MakeUnit,
    make_submission: MakeSubmission,
) -> None:
    top = make_unit(kind="district", name="LĐLĐ huyện Biểu Đồ")
    a = make_unit(parent_code=top.code, name="CĐCS Nhà máy A")
    b = make_unit(parent_code=top.code, name="CĐCS Trường học B")
    make_unit(parent_code=top.code, name="CĐCS Trạm y tế C")  # took no part
    d1 = dt.datetime.now(VN_TZ).date() - dt.timedelta(days=1)
    # 00:30 in Vietnam is still the day before in UTC: it counts on the Vietnamese day.
    make_submission(a, field="san_xuat", idea_group="doanh_nghiep", submitted_at=_at(d1, 0, 30), sign=False)
    make_submission(a, field="san_xuat", idea_group="doanh_nghiep", submitted_at=_at(d1, 9), sign=False)
    make_submission(a, field="khac", idea_group="doanh_nghiep", submitted_at=_at(d1, 23, 59), sign=False)
    make_submission(b, field="cong_dong", idea_group="khoi_co_quan", submitted_at=_at(d1 + dt.timedelta(1), 8))
    make_submission(top, field="khac", idea_group="khoi_co_quan", submitted_at=_at(d1 + dt.timedelta(1), 9))
    make_submission(a, campaign="75k-2021", sign=False)  # another campaign: counted nowhere here

    with tenant_session(make_sessionmaker(app_engine), THANH_HOA) as s:
        p = progress(s, principal(top), unit_id=None, campaign_code=DEMO)
    assert p.by_field == {"san_xuat": 2, "khac": 2, "cong_dong": 1}
    assert p.by_group == {"doanh_nghiep": 3, "khoi_co_quan": 2}
    assert p.by_day == {d1: 3, d1 + dt.timedelta(1): 2}
    assert [t.value for t in cumulative_targets(p)] == [6.0]  # 2 per CĐCS × 3 CĐCS

    c, _ = signed_in(client_factory, officer_at(make_officer, top, Role.chu_tich))
    html = c.get("/console/tien-do", params={"chuong_trinh": DEMO}).text
    f = Figures(html)
    assert set(f.figures) == {"bd-cong-don", "bd-linh-vuc", "bd-nhom", "bd-don-vi", "bd-tham-gia"}

    days = f.table("bd-cong-don")
    assert days == {f"{d1:%d/%m/%Y}": ["3", "3"], f"{d1 + dt.timedelta(1):%d/%m/%Y}": ["2", "5"]}
    assert "Chỉ tiêu: 6 (2 × 3 CĐCS)" in f.figures["bd-cong-don"]["svg"]

    fields = f.table("bd-linh-vuc")
    assert fields["Sản xuất có giá trị làm lợi cao"] == ["2"] and fields["Khác"] == ["2"]
    assert fields["Vì cộng đồng (y tế, giáo dục)"] == ["1"] and fields["Tạo ra sản phẩm mới"] == ["0"]
    assert sum(int(v[0]) for v in fields.values()) == 5
    assert f.table("bd-nhom") == {"Doanh nghiệp": ["3"], "Khối cơ quan": ["2"]}

    subunits = f.table("bd-don-vi")
    assert subunits == {
        "CĐCS Nhà máy A": ["3,0", "2"],
        "CĐCS Trường học B": ["1,0", "2"],
        "CĐCS Trạm y tế C": ["0,0", "2"],
    }
    part = f.table("bd-tham-gia")
    assert part["Toàn đơn vị"] == ["67%", "100%"] and part["CĐCS Nhà máy A"] == ["100%", "100%"]
    assert part["CĐCS Trạm y tế C"] == ["0%", "100%"]
    assert "2/3 CĐCS có sáng kiến" in f.figures["bd-tham-gia"]["svg"]

    # Each chart says what it is and its numbers to a screen reader.
    for chart_id in f.figures:
        assert re.search(rf'<svg class="chart-svg" role="img" aria-labelledby="{chart_id}-t {chart_id}-d"', html)
        assert f'<title id="{chart_id}-t">' in html and f'<desc id="{chart_id}-d">' in html
    assert "Sản xuất có giá trị làm lợi cao: 2" in html

    # The bars are drawn in proportion: 3 of 3 (the axis' top) for CĐCS A's average, 1 of 3 for B's.
    assert 'width="100.00%"' in html and 'width="33.33%"' in html


def test_targets_of_a_province_and_of_hà_quảng(
    client_factory: Callable[..., TestClient], make_officer: MakeOfficer
) -> None:
    c, _ = signed_in(client_factory, make_officer(THANH_HOA, "thanh-hoa", Role.chu_tich))
    f = Figures(c.get("/console/tien-do", params={"chuong_trinh": DEMO}).text)
    assert "Chỉ tiêu toàn tỉnh: 7.500 (đến 10/10/2021)" in f.figures["bd-cong-don"]["svg"]

    c, _ = signed_in(client_factory, make_officer(CAO_BANG, "H045", Role.chu_tich))
    html = c.get("/console/tien-do", params={"chuong_trinh": DEMO}).text
    assert "Chỉ tiêu toàn tỉnh" not in html  # a district, and not Thanh Hóa


def test_names_are_escaped_and_another_tenant_gets_404(
    client_factory: Callable[..., TestClient],
    make_officer: MakeOfficer,
    make_unit: MakeUnit,
    make_submission: MakeSubmission,
) -> None:
    top = make_unit(kind="district", name="LĐLĐ <b>đậm</b>")
    evil = make_unit(parent_code=top.code, name='CĐCS <script>alert("x")</script> & "Đông"')
    make_submission(evil, sign=False)
    c, _ = signed_in(client_factory, officer_at(make_officer, top, Role.chu_tich))
    html = c.get("/console/tien-do", params={"chuong_trinh": DEMO}).text
    assert "<script>alert" not in html and "<b>đậm</b>" not in html
    assert "CĐCS &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;Đông&#34;" in html
    assert 'CĐCS <script>alert("x")</script> & "Đông"' in Figures(html).table("bd-don-vi")

    stranger, _ = signed_in(client_factory, make_officer(CAO_BANG, "cao-bang", Role.quan_tri))
    for unit in (top, evil):
        r = stranger.get("/console/tien-do", params={"don_vi": str(unit.id), "chuong_trinh": DEMO})
        assert r.status_code == 404 and "<script>" not in r.text and "CĐCS &lt;" not in r.text
    own = stranger.get("/console/tien-do", params={"chuong_trinh": DEMO}).text
    assert "&lt;b&gt;đậm" not in own and "&lt;script" not in own


# --- pure parts ---------------------------------------------------------------------------------


def test_grassroots_taking_part_counts_initiatives_below_a_cdcs() -> None:
    units = [
        (1, None, "province"),
        (2, 1, "district"),
        (3, 2, "grassroots"),
        (4, 3, "grassroots"),
        (5, 2, "grassroots"),
    ]
    assert grassroots_taking_part(units, {}) == (3, 0)
    assert grassroots_taking_part(units, {4: 2}) == (3, 2)  # 4 and the CĐCS above it
    assert grassroots_taking_part(units, {2: 5, 5: 1}) == (3, 1)  # the district's own count is no CĐCS's
    assert grassroots_taking_part(units, {99: 1}) == (3, 0)  # a unit of another tree


def test_chart_helpers() -> None:
    assert number(75000) == "75.000" and decimal(1234.56) == "1.234,6" and decimal(5 / 3) == "1,7"
    assert [nice_max(v) for v in (0, 3, 7, 13, 7500, 75_000)] == [1, 3, 8, 15, 8000, 80_000]
    assert [axis_top(v) for v in (0, 3, 14.7, 57.75, 7875, 78_750)] == [4, 4, 16, 60, 8000, 80_000]
    lines = wrap("Cải cách hành chính, xây dựng Đảng và hệ thống chính trị, quản lý, điều hành")
    assert all(len(line) <= 32 for line in lines) and " ".join(lines).startswith("Cải cách hành chính")
    html = bar_chart("x", "A <b>", [Bar("<i>", 1, note="&")], target=Target(2, "≥ 2 <u>"))
    assert "<i>" not in html and "<b>" not in html and "<u>" not in html and "&amp;" in html
    empty = cumulative_chart("y", "Tổng", [], start=dt.date(2021, 3, 10), end=dt.date(2021, 3, 10))
    assert "10/03" in empty and "11/03" in empty  # one day still has a line to draw


@pytest.mark.parametrize("pct", [0.0, 50.0, 100.0])
def test_participation_chart_runs_to_100(pct: float) -> None:
    html = bar_chart("p", "Tham gia", [Bar("A", pct)], scale_max=100, target=Target(100, "100%"))
    assert f'width="{pct:.2f}%"' in html or pct == 0.0
    assert 'x1="100.00%"' in html  # the target tick at the end of the track


def test_charts_of_an_empty_campaign_render() -> None:
    from services.review.console.progress import Progress

    p = Progress(
        unit_id=1,
        unit_name="X",
        campaign=None,
        campaigns=[],
        initiatives=0,
        grassroots=0,
        taking_part=0,
        avg=None,
        pct=None,
        avg_target=2.0,
        pct_target=100.0,
        rows=[],
        leaf_fallback=True,
    )
    drawn = charts(p, dt.date(2021, 4, 1))
    assert drawn.by_subunit is None and drawn.participation is None
    assert "Sáng kiến cộng dồn" in drawn.cumulative


def test_the_confederation_sees_the_country_against_75000(
    app_engine: Engine,
    redis_url: str,
    client_factory: Callable[..., TestClient],
    make_officer: MakeOfficer,
    make_unit: MakeUnit,
) -> None:
    client = redis.Redis.from_url(redis_url)
    client.delete(LEADERBOARD_VERSION_KEY)
    leaderboard.publish(client, leaderboard.build_leaderboard(tenant_scope(make_sessionmaker(app_engine))))
    c, _ = signed_in(client_factory, make_officer(TLD, "tld", Role.chu_tich))
    assert 'href="/console/tien-do"' in c.get("/console/").text
    html = c.get("/console/tien-do", params={"chuong_trinh": DEMO}).text
    f = Figures(html)
    assert {"tq-ca-nuoc", "tq-tinh", "tq-nganh"} <= set(f.figures)
    assert "Mục tiêu cả nước: 75.000 sáng kiến" in html
    assert len(f.table("tq-tinh")) == 63 and len(f.table("tq-nganh")) == 20
    assert f.table("tq-tinh")["Liên đoàn Lao động tỉnh Thanh Hóa"][1] == "7.500"  # its own target
    # No unit of a province can be named from the confederation's console.
    unit = make_unit()
    assert c.get("/console/tien-do", params={"don_vi": str(unit.id)}).status_code == 404
    assert c.get("/console/tien-do", params={"chuong_trinh": "khong-co"}).status_code == 404
