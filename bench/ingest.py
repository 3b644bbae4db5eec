"""The ingester alone, against a raw COPY of the same rows.

The stream is filled beforehand with N entries as intake writes them (a SubmissionMessage with
the ID number and phone sealed by the platform's key ring; a tracking record per entry), spread
over the 83 tenants like the campaign. Then the review ingester's loop (``Ingester.step()``, what
``sangkien ingester`` runs, here in this process: no process start-up in the time) consumes it
until every entry is a row: read, parse, COPY to its staging table, INSERT…SELECT tenant by
tenant under row-level security, acknowledge and delete, mark the tracking records received.

The baseline is the fastest way PostgreSQL takes the same rows: one COPY into review.submissions
as the administrator (a superuser: no row-level security), units and campaign already resolved,
into the emptied table; best of two runs."""

from __future__ import annotations

import datetime as dt
import gc
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.env import CAMPAIGN, ROOT, BenchEnv, destinations
from bench.words import FIRST, GIVEN, MIDDLE, SENTENCES, TITLES
from shared.contracts.submissions import SealedField, SubmissionMessage, new_tracking_code, status_key
from shared.pii import PiiCipher
from shared.redispack import pack

FIELDS = ["san_xuat", "san_pham_moi", "an_toan_moi_truong", "cai_cach_hanh_chinh", "cong_dong", "khac"]
COLUMNS = (
    "tenant_id, tracking_code, submission_id, campaign_id, unit_id, full_name, id_number_enc, id_number_hash, "
    "phone_enc, phone_hash, idea_group, field, title, description, birth_year, position, workplace, email, "
    "applied_from, benefit, awards, status, submitted_at, stream_id"
)


@dataclass
class IngestResult:
    n: int
    prefill_seconds: float
    ingester_seconds: float
    ingester_rows: int
    copy_seconds: list[float]

    @property
    def ingester_rate(self) -> float:
        return self.ingester_rows / self.ingester_seconds

    @property
    def copy_rate(self) -> float:
        return self.n / min(self.copy_seconds)


def _tenant_ids() -> dict[str, int]:
    import csv

    with (ROOT / "data/orgtree/2021/tenants.csv").open(encoding="utf-8") as f:
        return {r["code"]: int(r["id"]) for r in csv.DictReader(f)}


def messages(env: BenchEnv, n: int, seed: int) -> list[SubmissionMessage]:
    rng = random.Random(seed)  # noqa: S311 - made-up forms, not secrets
    cipher = PiiCipher.from_settings(env.settings)
    ids = _tenant_ids()
    pool = [(t, u) for t, u, w in destinations() for _ in range(w)]
    at = dt.datetime.now(dt.UTC)
    out = []
    for i in range(n):
        tenant, unit = rng.choice(pool)
        tid = ids[tenant]
        id_sealed = cipher.seal(f"0{(seed * 104729 + i) % 10**11:011d}", kind="id_number")
        phone_sealed = cipher.seal(f"09{(seed * 7919 + i) % 10**8:08d}", kind="phone")
        extra = i % 3 == 0
        out.append(
            SubmissionMessage(
                submission_id=uuid.uuid4().hex,
                tracking_code=new_tracking_code(tid),
                campaign=CAMPAIGN,
                tenant_id=tid,
                tenant=tenant,
                subunit=unit,
                full_name=f"{rng.choice(FIRST)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
                id_number=SealedField(ct=id_sealed.ciphertext, h=id_sealed.digest),
                phone=SealedField(ct=phone_sealed.ciphertext, h=phone_sealed.digest),
                group=rng.choice(["doanh_nghiep", "khoi_co_quan"]),
                field=rng.choice(FIELDS),
                title=f"{rng.choice(TITLES)} ({i % 997})",
                description="\n".join(rng.sample(SENTENCES, 2 + i % 5)),
                birth_year=1965 + i % 40 if extra else None,
                position="Tổ trưởng sản xuất" if extra else None,
                workplace=f"Phân xưởng {i % 12 + 1}" if extra else None,
                email=f"nguoi{i}@congdoan.vn" if extra else None,
                applied_from="Tháng 3/2021" if extra else None,
                benefit=f"Tiết kiệm {10 + i % 300} triệu đồng mỗi năm" if extra else None,
                submitted_at=at,
            )
        )
    return out


def fill_stream(env: BenchEnv, msgs: list[SubmissionMessage]) -> list[str]:
    """XADD each entry (and its tracking record, as intake writes it), pipelined; the stream ids."""
    conn: Any = env.redis().connection_pool.get_connection()
    ids: list[str] = []
    ttl = 180 * 86_400
    try:
        for start in range(0, len(msgs), 1000):
            chunk = msgs[start : start + 1000]
            cmds = []
            for m in chunk:
                cmds.append(pack(("XADD", env.stream, "*", "m", m.model_dump_json())))
                key = status_key(m.tracking_code)
                cmds.append(
                    pack(("HSET", key, "s", "queued", "p", m.phone.h.hex(), "t", m.submitted_at.isoformat(),
                          "u", m.tenant, "su", m.subunit, "c", m.campaign, "ti", m.title[:160]))
                )  # fmt: skip
                cmds.append(pack(("EXPIRE", key, ttl)))
            conn.send_packed_command([b"".join(cmds)])
            for _ in chunk:
                sid = conn.read_response()
                conn.read_response()
                conn.read_response()
                ids.append(sid.decode() if isinstance(sid, bytes) else str(sid))
    finally:
        env.redis().connection_pool.release(conn)
    return ids


def copy_rows(env: BenchEnv, msgs: list[SubmissionMessage], ids: list[str]) -> list[tuple[Any, ...]]:
    with env.pg(autocommit=True) as c:
        campaign = c.execute("SELECT id, tree_id FROM review.campaigns WHERE code = %s", (CAMPAIGN,)).fetchone()
        assert campaign is not None
        units = {
            (tid, code): uid
            for tid, code, uid in c.execute(
                "SELECT tenant_id, code, id FROM review.units WHERE tree_id = %s", (campaign[1],)
            ).fetchall()
        }
    rows = [
        (
            m.tenant_id, m.tracking_code, m.submission_id, campaign[0], units[(m.tenant_id, m.subunit)], m.full_name,
            m.id_number.ct, m.id_number.h, m.phone.ct, m.phone.h, m.group.value, m.field, m.title, m.description,
            m.birth_year, m.position, m.workplace, m.email, m.applied_from, m.benefit, m.awards, "received",
            m.submitted_at, sid,
        )
        for m, sid in zip(msgs, ids, strict=True)
    ]  # fmt: skip
    return rows


def time_copy(env: BenchEnv, rows: list[tuple[Any, ...]]) -> float:
    env.truncate()
    with env.pg() as c:
        c.execute("CHECKPOINT")
        c.commit()
        t0 = time.perf_counter()
        with c.cursor() as cur, cur.copy(f"COPY review.submissions ({COLUMNS}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
        c.commit()
        return time.perf_counter() - t0


def time_ingester(env: BenchEnv, n: int, say: Callable[[str], None]) -> tuple[float, int]:
    import redis

    from services.review.config import ReviewSettings
    from services.review.ingester import Ingester, ensure_group

    env.truncate()
    with env.pg(autocommit=True) as c:
        c.execute("CHECKPOINT")
    settings = ReviewSettings(
        database_url=env.database_url,
        redis_url=env.redis_url,
        pii_encryption_keys=env.pii["PII_ENCRYPTION_KEYS"],  # type: ignore[arg-type]
        pii_hash_key=env.pii["PII_HASH_KEY"],  # type: ignore[arg-type]
        submissions_stream=env.stream,
        ingester_batch=int(__import__("os").environ.get("INGESTER_BATCH", "2000")),
    )
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=10, socket_connect_timeout=2)
    ensure_group(client, settings.submissions_stream, settings.ingester_group)
    ing = Ingester(settings, client)
    gc.collect()
    gc.freeze()  # the bench's own rows stay out of the collector's way, as in a process of its own
    try:
        t0 = time.perf_counter()
        idle = 0
        while ing.committed < n:
            got = ing.step(block_ms=200)
            idle = 0 if got or ing.busy else idle + 1
            if idle > 50:
                raise RuntimeError(f"the ingester stopped at {ing.committed} of {n} rows")
        seconds = time.perf_counter() - t0
    finally:
        gc.unfreeze()
        ing.close()
    return seconds, ing.committed


def run(env: BenchEnv, n: int, say: Callable[[str], None]) -> IngestResult:
    env.reset_redis()
    env.truncate()
    t0 = time.perf_counter()
    msgs = messages(env, n, seed=int(time.time()) % 100_000)
    ids = fill_stream(env, msgs)
    prefill = time.perf_counter() - t0
    say(f"  stream filled with {n:,} entries in {prefill:.1f}s")
    rows = copy_rows(env, msgs, ids)
    del msgs
    copies = [time_copy(env, rows)]
    say(f"  COPY: {copies[0]:.1f}s ({n / copies[0]:,.0f} rows/s)")
    seconds, committed = time_ingester(env, n, say)
    say(f"  ingester: {seconds:.1f}s ({committed / seconds:,.0f} rows/s)")
    if env.committed() != n:
        raise RuntimeError(f"the ingester committed {env.committed()} rows of {n}")
    copies.append(time_copy(env, rows))
    say(f"  COPY again: {copies[1]:.1f}s ({n / copies[1]:,.0f} rows/s)")
    env.truncate()
    env.reset_redis()
    return IngestResult(
        n=n, prefill_seconds=prefill, ingester_seconds=seconds, ingester_rows=committed, copy_seconds=copies
    )
