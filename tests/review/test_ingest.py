"""The ingester against real Redis and PostgreSQL: exactly once, dead letters with reasons,
replay, reclaim of a dead consumer's entries, and the tracking look-up under RLS."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from hypothesis import given
from hypothesis import settings as settings_hypothesis
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, text

from services.review.config import ReviewSettings
from services.review.ingest import _from_model, parse, read_message
from services.review.ingester import Ingester
from shared.config import CommonSettings
from shared.contracts.submissions import (
    DEAD_LETTER_STREAM,
    SealedField,
    SubmissionMessage,
    new_tracking_code,
)
from shared.pii import PiiCipher
from shared.timeutil import now
from tests.support.stack import Server, drain

ADMIN = {"Authorization": "Bearer test-admin-token"}


def message(settings: CommonSettings, **over: Any) -> SubmissionMessage:
    cipher = PiiCipher.from_settings(settings)
    idn, ph = cipher.seal("001203004567", kind="id_number"), cipher.seal("0912345678", kind="phone")
    fields: dict[str, Any] = {
        "submission_id": uuid.uuid4().hex,
        "tracking_code": new_tracking_code(38),
        "campaign": "75k-demo",
        "tenant_id": 38,
        "tenant": "thanh-hoa",
        "subunit": "N-YT",
        "full_name": "Lê Văn Tâm",
        "id_number": SealedField(ct=idn.ciphertext, h=idn.digest),
        "phone": SealedField(ct=ph.ciphertext, h=ph.digest),
        "group": "doanh_nghiep",
        "field": "san_xuat",
        "title": "Cải tiến dây chuyền đóng gói",
        "description": "Giảm 12% thời gian đóng gói.",
        "submitted_at": now(),
    }
    fields.update(over)
    return SubmissionMessage(**fields)


def add(client: redis.Redis, stream: str, payload: bytes) -> str:
    return client.xadd(stream, {b"m": payload}).decode()  # type: ignore[union-attr]  # bytes from a bytes client


@pytest.fixture
def rds(review_settings: ReviewSettings) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(review_settings.redis_url)
    client.delete(DEAD_LETTER_STREAM)
    yield client
    client.delete(DEAD_LETTER_STREAM)


def rows(settings: CommonSettings, code: str) -> int:
    engine = create_engine(settings.database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as c:  # the admin role: a superuser, not bound by RLS, for checking
        n = c.execute(text("SELECT count(*) FROM review.submissions WHERE tracking_code = :c"), {"c": code}).scalar()
    engine.dispose()
    return int(n or 0)


def test_redelivered_entry_is_committed_once(ingester: Ingester, rds: redis.Redis, settings: CommonSettings) -> None:
    drain(ingester)
    committed = REGISTRY.get_sample_value("ingester_rows_committed_total") or 0.0
    duplicates = REGISTRY.get_sample_value("ingester_duplicates_total") or 0.0
    m = message(settings)
    payload = m.model_dump_json().encode()
    add(rds, ingester.stream, payload)
    add(rds, ingester.stream, payload)  # the same entry again (a producer retry, a replay)
    drain(ingester)
    add(rds, ingester.stream, payload)  # and once more, in a later batch
    drain(ingester)
    assert rows(settings, m.tracking_code) == 1
    assert rds.xpending(ingester.stream, ingester.group)["pending"] == 0
    assert rds.xlen(DEAD_LETTER_STREAM) == 0
    assert rds.xlen(ingester.stream) == 0  # acknowledged entries are deleted: the stream holds only work
    assert REGISTRY.get_sample_value("ingester_rows_committed_total") == committed + 1  # what operators see
    assert REGISTRY.get_sample_value("ingester_duplicates_total") == duplicates + 2


def test_poison_and_refused_entries_become_dead_letters(
    ingester: Ingester, rds: redis.Redis, settings: CommonSettings
) -> None:
    drain(ingester)
    good = message(settings)
    collision = message(settings, tracking_code=good.tracking_code)  # same code, another submission
    unknown_unit = message(settings, subunit="KHONG-CO")
    add(rds, ingester.stream, b"{not json")
    add(rds, ingester.stream, good.model_dump_json().encode())
    add(rds, ingester.stream, unknown_unit.model_dump_json().encode())
    drain(ingester)
    add(rds, ingester.stream, collision.model_dump_json().encode())
    drain(ingester)
    assert rows(settings, good.tracking_code) == 1
    reasons = sorted(f[b"reason"].decode() for _, f in rds.xrange(DEAD_LETTER_STREAM))
    assert len(reasons) == 3
    assert any(r.startswith("Không đọc được nội dung tin") for r in reasons)
    assert any("Không tìm thấy đơn vị trực thuộc “KHONG-CO” của đơn vị “thanh-hoa”" in r for r in reasons)
    assert any(f"Mã theo dõi {good.tracking_code} đã thuộc về một sáng kiến khác" == r for r in reasons)
    assert rds.xpending(ingester.stream, ingester.group)["pending"] == 0


def test_admin_sees_dead_letters_and_replays_after_the_fix(
    ingester: Ingester, rds: redis.Redis, settings: CommonSettings, review_server: Server
) -> None:
    drain(ingester)
    m = message(settings, subunit="MOI-2026")
    add(rds, ingester.stream, m.model_dump_json().encode())
    drain(ingester)
    assert httpx.get(review_server.url + "/api/v1/admin/dead-letters").status_code == 401
    bad = {"Authorization": "Bearer wrong"}
    assert httpx.get(review_server.url + "/api/v1/admin/dead-letters", headers=bad).status_code == 401
    listed = httpx.get(review_server.url + "/api/v1/admin/dead-letters", headers=ADMIN).json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert item["tracking_code"] == m.tracking_code and item["subunit"] == "MOI-2026"
    assert "0912345678" not in str(listed) and "001203004567" not in str(listed)

    engine = create_engine(settings.database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as c:  # the fix: the new unit is added to Thanh Hóa's 2021 tree
            c.execute(
                text(
                    "INSERT INTO review.units (tenant_id, tree_id, code, name, kind, valid_from) "
                    "SELECT 38, t.id, 'MOI-2026', 'Công đoàn cơ sở mới', 'grassroots', '2021-01-01' "
                    "FROM review.org_trees t WHERE t.code = '2021'"
                )
            )
        r = httpx.post(f"{review_server.url}/api/v1/admin/dead-letters/{item['id']}/replay", headers=ADMIN)
        assert r.status_code == 200, r.text
        assert rds.xlen(DEAD_LETTER_STREAM) == 0
        drain(ingester)
        assert [f[b"reason"] for _, f in rds.xrange(DEAD_LETTER_STREAM)] == []
        assert rows(settings, m.tracking_code) == 1
        missing = httpx.post(f"{review_server.url}/api/v1/admin/dead-letters/{item['id']}/replay", headers=ADMIN)
        assert missing.status_code == 404
    finally:
        with engine.begin() as c:
            c.execute(
                text("DELETE FROM review.submissions WHERE tenant_id = 38 AND tracking_code = :c"),
                {"c": m.tracking_code},
            )
            c.execute(text("DELETE FROM review.units WHERE tenant_id = 38 AND code = 'MOI-2026'"))
        engine.dispose()


def test_dead_consumers_entries_are_reclaimed(
    ingester: Ingester, rds: redis.Redis, settings: CommonSettings, review_settings: ReviewSettings
) -> None:
    drain(ingester)
    m = message(settings)
    add(rds, ingester.stream, m.model_dump_json().encode())
    dead = Ingester(review_settings, rds)
    dead.name = "da-chet"
    assert len(dead._read(">", block_ms=None)) == 1  # delivered, then the consumer dies before committing
    assert ingester.step(block_ms=10) == 0 or rows(settings, m.tracking_code) == 0
    time.sleep(review_settings.ingester_min_idle_ms / 1000 + 0.3)
    ingester._last_reclaim = 0.0
    drain(ingester)
    assert rows(settings, m.tracking_code) == 1
    assert rds.xpending(ingester.stream, ingester.group)["pending"] == 0


def test_entry_that_keeps_failing_is_parked(
    ingester: Ingester, rds: redis.Redis, settings: CommonSettings, review_settings: ReviewSettings
) -> None:
    drain(ingester)
    m = message(settings)
    sid = add(rds, ingester.stream, m.model_dump_json().encode())
    rds.xreadgroup(ingester.group, "c0", {ingester.stream: ">"}, count=1)
    for i in range(review_settings.ingester_max_deliveries):  # every consumer that takes it dies
        rds.xclaim(ingester.stream, ingester.group, f"c{i + 1}", min_idle_time=0, message_ids=[sid])
    time.sleep(review_settings.ingester_min_idle_ms / 1000 + 0.3)
    ingester._last_reclaim = 0.0
    drain(ingester)
    letters = rds.xrange(DEAD_LETTER_STREAM)
    assert len(letters) == 1 and letters[0][1][b"reason"].decode().startswith("Đã giao")
    assert rows(settings, m.tracking_code) == 0
    assert rds.xpending(ingester.stream, ingester.group)["pending"] == 0


def test_review_lookup_is_scoped_to_the_code_tenant(
    ingester: Ingester, rds: redis.Redis, settings: CommonSettings, review_server: Server
) -> None:
    drain(ingester)
    m = message(settings)
    add(rds, ingester.stream, m.model_dump_json().encode())
    drain(ingester)
    digest = PiiCipher.from_settings(settings).digest("0912345678", kind="phone").hex()
    ok = httpx.get(f"{review_server.url}/api/v1/tracking/{m.tracking_code}", headers={"X-Phone-Digest": digest})
    assert ok.status_code == 200 and ok.json()["subunit_name"] == "Công đoàn ngành Y tế tỉnh Thanh Hóa"
    other_tenant = "4-" + m.tracking_code.split("-", 1)[1]  # the same letters under Cao Bằng
    r = httpx.get(f"{review_server.url}/api/v1/tracking/{other_tenant}", headers={"X-Phone-Digest": digest})
    assert r.status_code == 404
    r = httpx.get(f"{review_server.url}/api/v1/tracking/{m.tracking_code}", headers={"X-Phone-Digest": "00" * 32})
    assert r.status_code == 404


def test_replay_refuses_an_id_that_is_not_a_full_stream_id(review_server: Server, rds: redis.Redis) -> None:
    r = httpx.post(f"{review_server.url}/api/v1/admin/dead-letters/5/replay", headers=ADMIN)
    assert r.status_code == 404


def test_a_code_that_names_another_tenant_is_parked(
    ingester: Ingester, rds: redis.Redis, settings: CommonSettings
) -> None:
    drain(ingester)
    m = message(settings, tracking_code=new_tracking_code(4))  # Cao Bằng's prefix on a Thanh Hóa row
    add(rds, ingester.stream, m.model_dump_json().encode())
    drain(ingester)
    assert rows(settings, m.tracking_code) == 0
    reasons = [f[b"reason"].decode() for _, f in rds.xrange(DEAD_LETTER_STREAM)]
    assert reasons == [f"Mã theo dõi {m.tracking_code} không thuộc đơn vị thanh-hoa"]


# ---- the fast reader and the ingester's role ---------------------------------------------------


@settings_hypothesis(max_examples=60, deadline=None)
@given(
    optional=st.fixed_dictionaries(
        {},
        optional={
            "birth_year": st.integers(1940, 2010),
            "position": st.text(max_size=40),
            "workplace": st.text(max_size=40),
            "email": st.emails(),
            "applied_from": st.text(max_size=20),
            "benefit": st.text(max_size=80),
            "awards": st.text(max_size=80),
        },
    ),
    title=st.text(min_size=1, max_size=200),
    group=st.sampled_from(["doanh_nghiep", "khoi_co_quan"]),
)
def test_fast_reader_agrees_with_the_contract(
    settings: CommonSettings, optional: dict[str, Any], title: str, group: str
) -> None:
    """What intake writes, read without the model, gives the same row as the model."""
    m = message(settings, title=title, group=group, **optional)
    fast = read_message(m.model_dump_json().encode())
    assert fast == _from_model(m)
    assert fast.values[1:5] == (m.id_number.ct, m.id_number.h, m.phone.ct, m.phone.h)


def test_fast_reader_leaves_anything_else_to_the_model(settings: CommonSettings) -> None:
    m = message(settings)
    data = m.model_dump(mode="json")
    data["tenant_id"] = "38"  # the model coerces it; the fast reader does not guess
    raw = json.dumps(data).encode()
    with pytest.raises(ValueError):
        read_message(raw)
    ok, poison = parse([(b"1-1", {b"m": raw})])
    assert not poison and ok[0].message.tenant_id == 38
    data["group"] = "khong-co"
    ok, poison = parse([(b"1-2", {b"m": json.dumps(data).encode()})])
    assert not ok and "group" in poison[0][2]


def test_the_ingesters_role_may_only_read_the_tree_and_insert_submissions(migrated: CommonSettings) -> None:
    role = migrated.database_ingest_user
    engine = create_engine(migrated.database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as c:
        attrs = c.execute(text("SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = :r"), {"r": role}).one()
        grants = {
            (t, p)
            for t, p in c.execute(
                text(
                    "SELECT table_schema || '.' || table_name, privilege_type "
                    "FROM information_schema.role_table_grants WHERE grantee = :r"
                ),
                {"r": role},
            )
        }
    engine.dispose()
    assert attrs == (True, False)
    assert grants == {
        ("review.tenants", "SELECT"),
        ("review.units", "SELECT"),
        ("review.campaigns", "SELECT"),
        ("review.submissions", "SELECT"),
        ("review.submissions", "INSERT"),
    }


def test_a_unit_of_another_tenant_is_refused_by_the_database(
    review_settings: ReviewSettings, settings: CommonSettings
) -> None:
    """Bypassing row-level security, the ingester still cannot file a row under a tenant with a
    unit of another: the composite foreign key refuses it."""
    import psycopg

    from services.review import ingest_repository

    m = message(settings)
    with psycopg.connect(settings.database_url) as admin:
        campaign_id, foreign_unit = admin.execute(
            "SELECT c.id, u.id FROM review.campaigns c JOIN review.units u ON u.tree_id = c.tree_id "
            "WHERE c.code = '75k-demo' AND u.tenant_id <> 38 LIMIT 1"
        ).fetchone()  # type: ignore[misc]  # the demo campaign and tree are loaded
    row = (38, m.tracking_code, m.submission_id, campaign_id, foreign_unit, *_from_model(m).values, "received",
           m.submitted_at, "1-1")  # fmt: skip
    conn = ingest_repository.connect(review_settings.ingest_runtime_database_url)
    try:
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            ingest_repository.copy(conn, [row])
    finally:
        conn.close()
