"""A province's dossiers of a round at once, as on the last evening: N units' dossiers asked of
reporting together, rendered by the reporting worker exactly as `make run` starts it
(`python -m shared.cli worker reporting --concurrency 2`) into SeaweedFS, timed from the request
to the last job done. The baseline, measured in the same run: the same dossiers rendered one
after the other in this process (PDF then DOCX, nothing stored, no queue, no database), which is
what an officer's machine would do with a desktop tool.

    python -m bench --only dossiers [--quick]
"""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.env import BenchEnv, start_worker, stop
from bench.render import dossier
from devstack.embedded import Managed, free_port_with_grpc, start_seaweedfs
from shared.contracts.dossier import RENDER_TASK, Dossier, DossierJobsIn

THANH_HOA = 38
TARGET_SECONDS = 60.0  # "a province's 30 dossiers of a round in under a minute"


@dataclass
class DossierRun:
    dossiers: int
    rows: int
    seconds: float  # request → every job done, worker + storage + database
    baseline_seconds: float  # the same, rendered in a loop in one process
    done: int

    @property
    def ratio(self) -> float:
        return self.seconds / self.baseline_seconds if self.baseline_seconds else 0.0


def _dossiers(n: int, rows: int) -> list[Dossier]:
    run = secrets.token_hex(3)
    return [
        dossier(rows, seed=i).model_copy(update={"tenant_id": THANH_HOA, "unit_code": f"B{run}{i:03d}"})
        for i in range(n)
    ]


def _baseline(dossiers: list[Dossier]) -> float:
    from services.reporting.render import render_docx, render_pdf

    render_pdf(dossiers[0])  # warm: fonts and templates loaded, as in a long-lived worker
    t = time.perf_counter()
    for d in dossiers:
        render_pdf(d)
        render_docx(d)
    return time.perf_counter() - t


def _ask(env: BenchEnv, queue: str, dossiers: list[Dossier]) -> list[str]:
    """What reporting's API handler does: the jobs committed, then one task each."""
    from services.reporting import service
    from services.reporting.config import ReportingSettings
    from shared.celery_app import make_celery
    from shared.db import make_engine, make_sessionmaker, tenant_session
    from shared.servicetoken import Claims

    settings = ReportingSettings(**{k.lower(): v for k, v in env.env.items()}, task_queue=queue)
    engine = make_engine(settings.runtime_database_url, pool_size=1)
    claims = Claims(tenant_id=THANH_HOA, officer_id=1, unit_code="thanh-hoa", role="quan_tri", aud="reporting", exp=0)
    try:
        with tenant_session(make_sessionmaker(engine), THANH_HOA) as s:
            _, to_send = service.request_dossiers(s, claims, DossierJobsIn(dossiers=dossiers))
            ids = [str(j.id) for j in to_send]
    finally:
        engine.dispose()
    celery = make_celery("reporting", settings)
    for job_id in ids:
        celery.send_task(RENDER_TASK, args=[THANH_HOA, job_id])
    return ids


def _done(env: BenchEnv, ids: list[str]) -> int:
    with env.pg(autocommit=True) as c:
        row = c.execute(
            "SELECT count(*) FROM reporting.dossier_jobs WHERE state = 'done' AND id = ANY(%s::uuid[])", (ids,)
        ).fetchone()
        return int(row[0]) if row else 0


def _wait(env: BenchEnv, ids: list[str], timeout: float) -> float:
    t = time.monotonic()
    while _done(env, ids) < len(ids):
        if time.monotonic() - t > timeout:
            break
        time.sleep(0.1)
    return time.monotonic() - t


def run(env: BenchEnv, logdir: Path, *, quick: bool, say: Callable[[str], None]) -> list[DossierRun]:
    from shared.storage import ensure_bucket, make_client

    sizes = [(30, 4), (30, 40)] if quick else [(30, 4), (30, 40), (30, 200)]
    managed = Managed()
    results: list[DossierRun] = []
    with tempfile.TemporaryDirectory(prefix="bench-s3-") as tmp:
        try:
            port = free_port_with_grpc()
            secret = secrets.token_urlsafe(16)
            start_seaweedfs(Path(tmp), managed, s3_port=port, access_key="bench", secret_key=secret)
            s3 = {
                "S3_ENDPOINT": f"127.0.0.1:{port}",
                "S3_ACCESS_KEY": "bench",
                "S3_SECRET_KEY": secret,
                "S3_BUCKET": "sangkien-bench",
            }
            from services.reporting.config import ReportingSettings

            ensure_bucket(make_client(ReportingSettings(**{k.lower(): v for k, v in s3.items()})), "sangkien-bench")
            queue = f"bench-reporting-{secrets.token_hex(3)}"
            worker_env = {**env.env, **s3, "TASK_QUEUE": queue, "LOG_LEVEL": "WARNING"}
            worker = start_worker("reporting", worker_env, logdir / "reporting-worker.log")
            try:
                bench_env = _WithS3(env, s3)
                warm = _ask(bench_env, queue, _dossiers(2, 2))  # both worker children load WeasyPrint
                _wait(env, warm, 120)
                for n, rows in sizes:
                    ds = _dossiers(n, rows)
                    t = time.monotonic()
                    ids = _ask(bench_env, queue, ds)
                    _wait(env, ids, 600)
                    seconds = time.monotonic() - t
                    done = _done(env, ids)
                    baseline = _baseline(_dossiers(n, rows))
                    r = DossierRun(n, rows, seconds, baseline, done)
                    results.append(r)
                    say(
                        f"  {n} dossiers × {rows} rows: {seconds:.1f} s through the worker "
                        f"({done}/{n} done), {baseline:.1f} s in one loop here (× {r.ratio:.2f})"
                    )
            finally:
                stop(worker)
        finally:
            managed.stop()
    return results


class _WithS3(BenchEnv):
    """The bench's environment plus object storage, for the settings the API side builds."""

    def __init__(self, base: BenchEnv, s3: dict[str, str]) -> None:
        super().__init__(base.database_url, base.redis_url, pii=base.pii)
        self._s3 = s3

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, **self._s3}


def table(results: list[DossierRun]) -> str:
    lines = [
        "| dossiers × rows | worker (2 processes), queue, storage | one loop, no storage | ratio | target |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        target = f"< {TARGET_SECONDS:.0f} s: {'met' if r.seconds < TARGET_SECONDS else 'not met'}"
        lines.append(
            f"| {r.dossiers} × {r.rows} | {r.seconds:.1f} s ({r.done} done) | {r.baseline_seconds:.1f} s | "
            f"{r.ratio:.2f} | {target} |"
        )
    return "\n".join(lines)
