"""From the form to the committed row: 202, tracking, ingester, received, review's look-up."""

from __future__ import annotations

import httpx
import redis
from sqlalchemy import Connection, text

from services.review.ingester import Ingester
from shared.pii import PiiCipher
from tests.intake.conftest import Server, drain, form


def test_submit_ingest_and_track(intake: Server, ingester: Ingester, conn: Connection) -> None:
    r = httpx.post(f"{intake.url}/api/v1/submissions", json=form())
    assert r.status_code == 202, r.text
    body = r.json()
    code = body["tracking_code"]
    assert body["status"] == "queued" and code.startswith("4-")

    t = httpx.get(f"{intake.url}/api/v1/submissions/{code}", params={"phone": "+84 912 345 678"})
    assert t.status_code == 200 and t.json()["status"] == "queued"
    assert t.json()["subunit_name"] == "Liên đoàn Lao động huyện Hà Quảng"

    assert drain(ingester) >= 1
    t = httpx.get(f"{intake.url}/api/v1/submissions/{code}", params={"phone": "0912345678"})
    assert t.json()["status"] == "received"

    conn.execute(text("SELECT set_config('app.tenant_id', '4', true)"))
    row = conn.execute(
        text(
            "SELECT s.full_name, s.id_number_enc, s.phone_enc, s.phone_hash, u.code FROM review.submissions s "
            "JOIN review.units u ON u.tenant_id = s.tenant_id AND u.id = s.unit_id WHERE tracking_code = :c"
        ),
        {"c": code},
    ).one()
    assert row.full_name == "Nông Thị Hoa" and row.code == "H045"
    assert b"912345678" not in bytes(row.phone_enc) and b"001203004567" not in bytes(row.id_number_enc)


def test_stream_holds_no_personal_data_in_clear(intake: Server, redis_url: str, ingester: Ingester) -> None:
    drain(ingester)
    r = httpx.post(f"{intake.url}/api/v1/submissions", json=form(id_number="079 123 456 789", phone="0987 654 321"))
    assert r.status_code == 202
    client = redis.Redis.from_url(redis_url)
    entries = client.xrange(ingester.stream)
    blob = b"".join(f[b"m"] for _, f in entries)
    assert blob and b"079123456789" not in blob and b"0987654321" not in blob and b"987654321" not in blob
    for key in client.scan_iter("sub:*"):
        assert b"987654321" not in b"".join(client.hgetall(key).values())


def test_phone_and_id_are_sealed_with_the_platform_key(
    intake: Server, ingester: Ingester, conn: Connection, settings: object
) -> None:
    code = httpx.post(f"{intake.url}/api/v1/submissions", json=form()).json()["tracking_code"]
    drain(ingester)
    conn.execute(text("SELECT set_config('app.tenant_id', '4', true)"))
    enc = conn.execute(
        text("SELECT id_number_enc, phone_enc FROM review.submissions WHERE tracking_code = :c"), {"c": code}
    ).one()
    cipher = PiiCipher.from_settings(settings)
    assert cipher.open(bytes(enc.id_number_enc), kind="id_number") == "001203004567"
    assert cipher.open(bytes(enc.phone_enc), kind="phone") == "0912345678"


def test_tracking_falls_back_to_review_when_redis_forgot(intake: Server, ingester: Ingester, redis_url: str) -> None:
    code = httpx.post(f"{intake.url}/api/v1/submissions", json=form(phone="0911222333")).json()["tracking_code"]
    drain(ingester)
    redis.Redis.from_url(redis_url).delete(f"sub:{code}")  # expired, or a Redis without persistence restarted
    r = httpx.get(f"{intake.url}/api/v1/submissions/{code}", params={"phone": "0911 222 333"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "received" and body["status_label"] == "Đơn vị đã nhận sáng kiến"
    assert body["unit_name"] == "Liên đoàn Lao động tỉnh Cao Bằng" and body["subunit"] == "H045"
    wrong = httpx.get(f"{intake.url}/api/v1/submissions/{code}", params={"phone": "0911222334"})
    assert wrong.status_code == 404


def test_outcomes_are_counted_for_operators(intake: Server) -> None:
    def ok_count() -> float:
        for line in httpx.get(f"{intake.url}/metrics").text.splitlines():
            if line.startswith('intake_submissions_total{outcome="ok"}'):
                return float(line.split()[-1])
        return 0.0

    before = ok_count()
    assert httpx.post(f"{intake.url}/api/v1/submissions", json=form(phone="0914000111")).status_code == 202
    assert ok_count() == before + 1
    assert "intake_stream_batch_size_bucket" in httpx.get(f"{intake.url}/metrics").text


def test_a_cancelled_caller_does_not_stop_the_appender(redis_url: str) -> None:
    """A request that goes away mid-batch (client reset, shutdown) must not kill the task that
    serves everyone else."""
    import asyncio

    asyncio.run(_cancelled_caller(redis_url))


async def _cancelled_caller(redis_url: str) -> None:
    import asyncio

    import redis.asyncio as aioredis

    from services.intake.repository import AcceptCall, StreamAppender

    client = aioredis.from_url(redis_url)
    appender = StreamAppender(client)
    stream = "appender-cancel-test"
    await client.delete(stream)

    def call(n: int) -> AcceptCall:
        return AcceptCall(
            stream=stream, status_key=f"sub:T-{n}", idempotency_key="", ip_key=f"rl:t:{n}", phone_key=f"rl:tp:{n}",
            message=b"{}", high_water=10**6, status_ttl=60, idempotency_value="", idempotency_ttl=60,
            ip_limit=100, phone_limit=100, window=60, status_fields=("s", "queued"),
        )  # fmt: skip

    try:
        first = asyncio.ensure_future(appender.accept(call(1)))
        second = asyncio.ensure_future(appender.accept(call(2)))
        await asyncio.sleep(0)
        first.cancel()
        assert (await asyncio.wait_for(second, 5))[0] == "ok"
        assert (await asyncio.wait_for(appender.accept(call(3)), 5))[0] == "ok"
    finally:
        await appender.stop()
        await client.delete(stream, "sub:T-1", "sub:T-2", "sub:T-3")
        await client.aclose()
