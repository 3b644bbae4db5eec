"""`make run`: the whole system on one machine, on real parts.

    python -m devstack run

Uses PostgreSQL and Redis at DATABASE_URL / REDIS_URL when they answer, otherwise starts
embedded ones with their data under .data/; starts SeaweedFS (S3) and aiosmtpd (SMTP); applies
migrations, loads the tenants, the org trees and a demo campaign; then starts the four APIs,
the ingester, the Celery workers and beat, each line of their logs prefixed with its name.
Ctrl-C stops everything it started, and nothing else. Running it again keeps the data.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from devstack.embedded import Managed, ensure_postgres, ensure_redis, start_seaweedfs, start_smtp

ROOT = Path(__file__).resolve().parent.parent
COLORS = ["36", "33", "35", "32", "34", "31", "96", "93", "95", "92"]
_print_lock = threading.Lock()


def _secrets(path: Path) -> dict[str, str]:
    """Generated once per machine, kept under .data/ (git-ignored), reused on every run; a
    secret added by a newer version is generated and added without touching the others."""
    data: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    fresh: dict[str, Callable[[], str]] = {
        "PII_ENCRYPTION_KEYS": lambda: "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "PII_HASH_KEY": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
        "S3_ACCESS_KEY": lambda: "sangkien",
        "S3_SECRET_KEY": lambda: secrets.token_urlsafe(24),
        "ADMIN_TOKEN": lambda: secrets.token_urlsafe(24),
    }
    missing = [k for k in fresh if k not in data]
    if missing:
        data.update({k: fresh[k]() for k in missing})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2))
        path.chmod(0o600)
    return data


def _pump(name: str, color: str, stream: object) -> None:
    tty = sys.stdout.isatty()
    prefix = f"\x1b[{color}m{name:>18} |\x1b[0m " if tty else f"{name:>18} | "
    for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]  # a pipe
        line = raw.decode("utf-8", "replace").rstrip("\n")
        with _print_lock:
            sys.stdout.write(prefix + line + "\n")
            sys.stdout.flush()


def _say(msg: str) -> None:
    with _print_lock:
        print(f"{'make run':>18} | {msg}", flush=True)


def _run_step(name: str, args: list[str], env: dict[str, str]) -> None:
    _say(f"→ {' '.join(args[2:])}")
    p = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
    _pump(name, "90", p.stdout)
    if p.wait() != 0:
        raise SystemExit(f"bước '{name}' thất bại (mã {p.returncode})")


def _wait_ready(urls: dict[str, str], timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    status = dict.fromkeys(urls, "?")
    while time.monotonic() < deadline and any(v != "ok" for v in status.values()):
        for name, base in urls.items():
            if status[name] == "ok":
                continue
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=2) as r:  # noqa: S310 - our own loopback URL
                    status[name] = "ok" if r.status == 200 else str(r.status)
            except Exception as exc:  # noqa: BLE001 - not up yet
                status[name] = type(exc).__name__
        time.sleep(0.5)
    return status


def run(args: argparse.Namespace) -> int:
    data = Path(args.data).resolve()
    data.mkdir(parents=True, exist_ok=True)
    sec = _secrets(data / "secrets.json")
    ports = {
        "intake": int(os.environ.get("INTAKE_PORT", 8000)),
        "review": int(os.environ.get("REVIEW_PORT", 8001)),
        "reporting": int(os.environ.get("REPORTING_PORT", 8002)),
        "notify": int(os.environ.get("NOTIFY_PORT", 8003)),
    }
    s3_port = int(os.environ.get("S3_PORT", 8333))
    smtp_port = int(os.environ.get("SMTP_PORT", 1025))
    managed = Managed()
    stopping = threading.Event()

    def _on_signal(*_: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        db_url = ensure_postgres(
            os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/sangkien"),
            data / "postgres",
            managed,
            "sangkien",
        )
        _say(f"PostgreSQL: {'nhúng (pgserver, ' + str(data / 'postgres') + ')' if managed.pg_server else db_url}")
        redis_url = ensure_redis(
            os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            data / "redis",
            managed,
            int(os.environ.get("EMBEDDED_REDIS_PORT", 6390)),
        )
        _say(f"Redis: {redis_url}")
        start_seaweedfs(
            data / "seaweedfs",
            managed,
            s3_port=s3_port,
            access_key=sec["S3_ACCESS_KEY"],
            secret_key=sec["S3_SECRET_KEY"],
        )
        _say(f"S3 (SeaweedFS): http://127.0.0.1:{s3_port}")
        start_smtp(data / "mail", managed, port=smtp_port, log=data / "smtp.log")
        _say(f"SMTP (aiosmtpd): 127.0.0.1:{smtp_port}, thư lưu tại {data / 'mail'}")

        env = {
            **os.environ,
            **sec,
            "ENVIRONMENT": "dev",
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "S3_ENDPOINT": f"127.0.0.1:{s3_port}",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "DEV_MAILBOX_DIR": str(data / "mail"),
            "PYTHONUNBUFFERED": "1",
            "BEAT_SCHEDULE_FILE": str(data / "celerybeat-schedule"),
            # intake prints its own address in QR codes and asks review about old tracking codes
            "PUBLIC_URL": os.environ.get("PUBLIC_URL", f"http://127.0.0.1:{ports['intake']}"),
            "REVIEW_URL": f"http://127.0.0.1:{ports['review']}",
            "REPORTING_URL": f"http://127.0.0.1:{ports['reporting']}",
            "CONSOLE_URL": f"http://127.0.0.1:{ports['review']}",
            "NOTIFY_URL": f"http://127.0.0.1:{ports['notify']}",
            "ADMIN_TOKEN": sec["ADMIN_TOKEN"],
            # The console is served over plain http on this machine: a Secure cookie would never
            # come back. Production keeps the default (on) and refuses to start without it.
            "CONSOLE_COOKIE_SECURE": "false",
        }
        cli = [sys.executable, "-m", "shared.cli"]
        _run_step("migrate", [*cli, "db", "migrate"], env)
        _run_step("storage", [*cli, "storage", "init"], env)
        _run_step("org-tree", [*cli, "review", "load-tree", "2021", "2025"], env)
        _run_step("seed", [*cli, "review", "seed", "--demo"], env)
        _run_step("workflow", [*cli, "review", "seed-workflow"], env)
        _run_step("officers", [*cli, "review", "seed-officers"], env)
        _run_step("demo", [*cli, "review", "seed-demo"], env)  # demo CĐCS, their officers, initiatives
        # Review has no scheduler of its own: sign what earlier runs' ingester left unsigned.
        _run_step("fingerprints", [*cli, "review", "fingerprints"], env)

        processes = {
            **{f"{svc}-api": [*cli, "api", svc, "--port", str(port)] for svc, port in ports.items()},
            "review-ingester": [*cli, "ingester"],
            "reporting-worker": [*cli, "worker", "reporting", "--concurrency", "2"],
            "notify-worker": [*cli, "worker", "notify", "--concurrency", "2"],
            "notify-beat": [*cli, "beat", "notify"],
            # Production's CronJob (deploy/k8s/base/retention-cronjob.yaml) as a loop: a run at
            # start, then one a day while make run stays up.
            "review-retention": [*cli, "review", "retention", "--every", "86400"],
        }
        for i, (name, argv) in enumerate(processes.items()):
            p = subprocess.Popen(
                argv,
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            managed.procs.append((name, p))
            threading.Thread(target=_pump, args=(name, COLORS[i % len(COLORS)], p.stdout), daemon=True).start()

        status = _wait_ready({s: f"http://127.0.0.1:{p}" for s, p in ports.items()}, 60)
        _say("")
        _say("Sáng kiến đang chạy:")
        _say(f"  Cổng nộp sáng kiến (intake)    http://127.0.0.1:{ports['intake']}/           [{status['intake']}]")
        _say(f"  Theo dõi kết quả               http://127.0.0.1:{ports['intake']}/theo-doi")
        _say(f"  Xét chọn (review)              http://127.0.0.1:{ports['review']}/docs       [{status['review']}]")
        _say(
            f"  Bàn làm việc cán bộ (console)  http://127.0.0.1:{ports['review']}/console/dang-nhap"
            "  (tài khoản demo: bước 'officers' ở trên)"
        )
        _say(f"  Tin lỗi (quản trị)             sangkien review dead-letters  (ADMIN_TOKEN: {data / 'secrets.json'})")
        _say(
            f"  Báo cáo, hồ sơ (reporting)     http://127.0.0.1:{ports['reporting']}/docs       [{status['reporting']}]"
        )
        _say(f"  Nhắc hạn (notify)              http://127.0.0.1:{ports['notify']}/docs       [{status['notify']}]")
        _say(f"  Hộp thư SMTP nội bộ            http://127.0.0.1:{ports['notify']}/hop-thu")
        _say(f"  Chỉ số Prometheus              http://127.0.0.1:{ports['intake']}/metrics (mỗi dịch vụ)")
        _say("Nhấn Ctrl-C để dừng mọi thứ đã khởi động.")
        if args.smoke:
            return 0 if all(v == "ok" for v in status.values()) else 1
        while not stopping.is_set():
            for name, p in managed.procs:
                if p.poll() is not None and not stopping.is_set():
                    _say(f"{name} đã dừng (mã {p.returncode}); dừng toàn bộ hệ thống.")
                    return 1
            stopping.wait(1)
        return 0
    finally:
        _say("Đang dừng…")
        managed.stop()
        _say("Đã dừng.")


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m devstack")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run")
    p.add_argument("--data", default=os.environ.get("DATA_DIR", str(ROOT / ".data")))
    p.add_argument("--smoke", action="store_true", help="start, check every service's readiness, stop")
    args = ap.parse_args()
    sys.exit(run(args))


if __name__ == "__main__":
    main()
