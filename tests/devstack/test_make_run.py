"""The newcomer's command, end to end: everything starts, every service is ready, Ctrl-C stops
exactly what was started, and a second start keeps the data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx
import psycopg
import pytest

from devstack.embedded import free_port, free_port_with_grpc, port_open

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.xdist_group("make-run")


def _start(env: dict[str, str], data: Path) -> tuple[subprocess.Popen[bytes], list[str]]:
    p = subprocess.Popen(
        [sys.executable, "-m", "devstack", "run", "--data", str(data)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 150
    assert p.stdout is not None
    while time.monotonic() < deadline:
        line = p.stdout.readline().decode("utf-8", "replace")
        if not line:
            break
        lines.append(line)
        if "Nhấn Ctrl-C" in line:
            return p, lines
    p.kill()
    pytest.fail("make run did not come up:\n" + "".join(lines[-60:]))


def _submit(intake: str) -> str:
    body = {
        "full_name": "Hà Văn Tuấn",
        "id_number": "038 095 001 234",
        "phone": "0913 111 222",
        "unit": "thanh-hoa",
        "subunit": "N-GD",
        "group": "khoi_co_quan",
        "field": "cong_dong",
        "title": "Tủ sách dùng chung cho học sinh vùng cao",
        "description": "Quyên góp và luân chuyển sách giữa các điểm trường.",
        "consent": True,
    }
    deadline = time.monotonic() + 20
    while True:  # the directory reaches intake a moment after start-up
        r = httpx.post(intake + "/api/v1/submissions", json=body)
        if r.status_code != 503 or time.monotonic() > deadline:
            assert r.status_code == 202, r.text
            return str(r.json()["tracking_code"])
        time.sleep(0.5)


def _wait_status(intake: str, code: str, status: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if httpx.get(f"{intake}/api/v1/submissions/{code}", params={"phone": "0913111222"}).json()["status"] == status:
            return True
        time.sleep(1)  # well under the look-up limit per address (60 a minute)
    return False


def _stop(p: subprocess.Popen[bytes]) -> str:
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=60)
    return out.decode("utf-8", "replace")


def test_make_run_starts_everything_and_ctrl_c_stops_it(pg_admin_url: str, redis_url: str, tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("INTAKE_PORT", "REVIEW_PORT", "REPORTING_PORT", "NOTIFY_PORT", "SMTP_PORT")}
    ports["S3_PORT"] = free_port_with_grpc()
    db_url = pg_admin_url.rsplit("/", 1)[0] + "/sangkien_make_run_test"
    with psycopg.connect(pg_admin_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS sangkien_make_run_test WITH (FORCE)")
    env = {
        **os.environ,
        **{k: str(v) for k, v in ports.items()},
        "DATABASE_URL": db_url,
        # Its own Redis database: its ingester and directory must not meet the suite's streams.
        "REDIS_URL": redis_url.rsplit("/", 1)[0] + "/15",
    }
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        p, lines = _start(env, tmp_path / "data")
        out = "".join(lines)
        for svc in ("intake", "review", "reporting", "notify"):
            assert f"http://127.0.0.1:{ports[svc.upper() + '_PORT']}" in out
        assert "[ok]" in out and out.count("[ok]") == 4, out[-3000:]
        for name in ("review-ingester", "reporting-worker", "notify-worker", "notify-beat"):
            assert f"{name} |" in out  # each process's log is prefixed with its name
        with urllib.request.urlopen(f"http://127.0.0.1:{ports['REVIEW_PORT']}/api/v1/tenants") as r:
            assert len(json.load(r)) == 84
        with urllib.request.urlopen(f"http://127.0.0.1:{ports['NOTIFY_PORT']}/hop-thu") as r:
            assert "Hộp thư" in r.read().decode()
        # A worker submits on the portal of the demo campaign; the ingester commits it.
        intake = f"http://127.0.0.1:{ports['INTAKE_PORT']}"
        code = _submit(intake)
        assert _wait_status(intake, code, "received", 30), "the ingester of make run did not commit"
        tail = _stop(p)
        assert p.returncode == 0, tail[-2000:]
        assert "Đã dừng." in tail
        time.sleep(0.5)
        for name, port in ports.items():
            assert not port_open("127.0.0.1", port), f"{name} still listening after Ctrl-C"
        assert bystander.poll() is None  # it stopped what it started, and nothing else

        # Again, on the same data: it starts, and what was loaded is still there, once.
        p, lines = _start(env, tmp_path / "data")
        _stop(p)
        with psycopg.connect(db_url) as c:
            assert c.execute("SELECT count(*) FROM review.tenants").fetchone() == (84,)
            assert c.execute("SELECT count(*) FROM review.campaigns").fetchone() == (2,)
    finally:
        bystander.kill()
