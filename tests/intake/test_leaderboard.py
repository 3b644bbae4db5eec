"""The public leaderboard: review counts each tenant's initiatives and CĐCS taking part under
its row-level security and publishes the snapshot to Redis (from the ingester's loop too);
intake serves /bang-xep-hang from its in-memory copy, escaped, counts only, against 75,000."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

import httpx
import pytest
import redis
from sqlalchemy.engine import Engine

from services.intake.leaderboard import ranks
from services.review import leaderboard
from services.review.config import ReviewSettings
from services.review.ingester import Ingester
from shared.contracts.leaderboard import (
    LEADERBOARD_KEY,
    LEADERBOARD_VERSION_KEY,
    CampaignBoard,
    LeaderboardSnapshot,
    TenantStanding,
)
from shared.db import make_sessionmaker, tenant_scope
from tests.intake.conftest import Server
from tests.review.console.conftest import (  # noqa: F401  # fixtures, requested by name below
    CAO_BANG,
    THANH_HOA,
    MakeSubmission,
    MakeUnit,
    cipher,
    make_submission,
    make_unit,
)

DEMO = "75k-demo"


def _board(snap: LeaderboardSnapshot, code: str = DEMO) -> CampaignBoard:
    return next(b for b in snap.campaigns if b.code == code)


def _standing(board: CampaignBoard, tenant_id: int) -> TenantStanding:
    return next(t for t in board.tenants if t.id == tenant_id)


def _wait_for(page: Callable[[], httpx.Response], text: str, timeout: float = 10) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        r = page()
        if text in r.text or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


def test_counts_per_tenant_under_rls_and_published(
    app_engine: Engine,
    redis_url: str,
    make_unit: MakeUnit,  # noqa: F811  # the console's fixture imported above
    make_submission: MakeSubmission,  # noqa: F811
) -> None:
    scope = tenant_scope(make_sessionmaker(app_engine))
    before = leaderboard.build_leaderboard(scope)
    district = make_unit(kind="district", name="LĐLĐ huyện Xếp Hạng")
    a = make_unit(parent_code=district.code, name="CĐCS Xếp Hạng A")
    make_unit(parent_code=district.code, name="CĐCS Xếp Hạng B")  # no initiative
    for _ in range(3):
        make_submission(a, full_name="Người Xếp Hạng", sign=False)
    make_submission(district, sign=False)  # to the district union itself: no CĐCS's
    make_submission(a, campaign="75k-2021", sign=False)
    cb = make_unit(CAO_BANG, "H045", name="CĐCS Hà Quảng Xếp Hạng")
    make_submission(cb, sign=False)
    after = leaderboard.build_leaderboard(scope)

    assert after.target == 75_000
    th0, th1 = _standing(_board(before), THANH_HOA), _standing(_board(after), THANH_HOA)
    assert th1.initiatives - th0.initiatives == 4
    assert (th1.grassroots - th0.grassroots, th1.taking_part - th0.taking_part) == (2, 1)
    assert th1.target == 7500 and th1.name == "Liên đoàn Lao động tỉnh Thanh Hóa" and th1.kind == "province"
    cb0, cb1 = _standing(_board(before), CAO_BANG), _standing(_board(after), CAO_BANG)
    assert cb1.initiatives - cb0.initiatives == 1 and cb1.taking_part - cb0.taking_part == 1
    assert (
        _standing(_board(after, "75k-2021"), THANH_HOA).initiatives
        - _standing(_board(before, "75k-2021"), THANH_HOA).initiatives
        == 1
    )
    board = _board(after)
    assert board.initiatives == sum(t.initiatives for t in board.tenants)
    assert [t.initiatives for t in board.tenants] == sorted((t.initiatives for t in board.tenants), reverse=True)
    assert {t.kind for t in board.tenants} == {"province", "central_sector"}  # not the Tổng Liên đoàn
    assert len(board.tenants) == 83  # 63 provinces and 20 central-sector unions of the 2021 tree
    # Counts only: nothing about a person travels.
    assert "Người Xếp Hạng" not in after.model_dump_json()

    client = redis.Redis.from_url(redis_url)
    client.delete(LEADERBOARD_VERSION_KEY)
    assert leaderboard.publish(client, after) is True
    assert leaderboard.publish(client, after.model_copy(update={"published_at": dt.datetime.now(dt.UTC)})) is False
    stored = LeaderboardSnapshot.model_validate_json(client.get(LEADERBOARD_KEY) or b"")
    assert _standing(_board(stored), THANH_HOA).initiatives == th1.initiatives


def test_the_ingester_publishes_it_beside_the_directory(
    review_settings: ReviewSettings, published: str, redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    client.delete(LEADERBOARD_VERSION_KEY, LEADERBOARD_KEY)
    stop = threading.Event()
    ing = Ingester(review_settings, client, stop)
    thread = threading.Thread(target=ing.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while client.get(LEADERBOARD_VERSION_KEY) is None and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(20)
    snap = LeaderboardSnapshot.model_validate_json(client.get(LEADERBOARD_KEY) or b"")
    assert {b.code for b in snap.campaigns} >= {DEMO, "75k-2021"}


def test_intake_serves_the_ranking_escaped(
    app_engine: Engine, redis_url: str, intake_factory: Callable[..., Server]
) -> None:
    client = redis.Redis.from_url(redis_url)
    client.delete(LEADERBOARD_VERSION_KEY, LEADERBOARD_KEY)
    # A server of its own, started while nothing is published: it says so, 503, and retries.
    intake = intake_factory(rate_limit_per_ip=599)
    r = httpx.get(f"{intake.url}/bang-xep-hang", timeout=10)
    assert r.status_code == 503 and "Bảng xếp hạng chưa sẵn sàng" in r.text and r.headers["retry-after"]

    def standing(i: int, name: str, kind: str, n: int, **kw: int) -> TenantStanding:
        return TenantStanding(
            id=i, code=f"t{i}", name=name, kind=kind, initiatives=n, grassroots=0, taking_part=0, **kw
        )

    snap = LeaderboardSnapshot(
        published_at=dt.datetime(2021, 4, 20, 9, 30, tzinfo=dt.UTC),
        campaigns=[
            CampaignBoard(
                code=DEMO,
                name="Chương trình thử",
                initiatives=12_345 + 7 + 7 + 3,
                tenants=[
                    TenantStanding(
                        id=38,
                        code="thanh-hoa",
                        name="Liên đoàn Lao động tỉnh Thanh Hóa",
                        kind="province",
                        initiatives=12_345,
                        grassroots=200,
                        taking_part=150,
                        target=7500,
                    ),
                    standing(4, 'LĐLĐ <script>alert("x")</script> & Cao Bằng', "province", 7),
                    standing(1, "Liên đoàn Lao động thành phố Hà Nội", "province", 7),
                    standing(201, "Công đoàn Y tế Việt Nam", "central_sector", 3),
                ],
            )
        ],
    )
    leaderboard.publish(client, snap)
    r = _wait_for(lambda: httpx.get(f"{intake.url}/bang-xep-hang", timeout=10), "12.345")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="vi">' in html and "Bảng xếp hạng" in html and "Chương trình thử" in html
    assert "12.362 sáng kiến" in html and "Mục tiêu cả nước: 75.000 sáng kiến" in html
    assert "16,5%" in html  # 12,362 of 75,000
    assert "1. Tỉnh Thanh Hóa" in html and "75% CĐCS tham gia · chỉ tiêu 7.500" in html
    # Equal counts share a place: both second, the sector union first of its own list.
    assert "2. LĐLĐ &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Cao Bằng" in html
    assert "2. Thành phố Hà Nội" in html and "1. Công đoàn Y tế Việt Nam" in html
    assert "<script>alert" not in html
    assert 'role="img"' in html and "Bảng số liệu" in html
    assert "Liên đoàn Lao động tỉnh, thành phố" in html and "Công đoàn ngành Trung ương và tương đương" in html
    assert "cập nhật lúc 16:30 ngày 20/04/2021" in html  # the time in Vietnam

    # Review goes away, Redis loses the keys: the last good copy stays.
    client.delete(LEADERBOARD_VERSION_KEY, LEADERBOARD_KEY)
    time.sleep(1)
    assert "12.345" in httpx.get(f"{intake.url}/bang-xep-hang", timeout=10).text
    # Put the real counts back for the rest of the session.
    leaderboard.publish(client, leaderboard.build_leaderboard(tenant_scope(make_sessionmaker(app_engine))))


def test_the_portal_links_to_it(intake: Server) -> None:
    html = httpx.get(f"{intake.url}/", timeout=10).text
    assert 'href="/bang-xep-hang"' in html


@pytest.mark.parametrize(
    ("counts", "expected"),
    [([], []), ([5], [1]), ([9, 7, 7, 3], [1, 2, 2, 4]), ([2, 2, 2], [1, 1, 1]), ([4, 0, 0], [1, 2, 2])],
)
def test_ranks_share_a_place_on_equal_counts(counts: list[int], expected: list[int]) -> None:
    tenants = [
        TenantStanding(id=i, code=str(i), name=str(i), kind="province", initiatives=n, grassroots=0, taking_part=0)
        for i, n in enumerate(counts)
    ]
    assert ranks(tenants) == expected
