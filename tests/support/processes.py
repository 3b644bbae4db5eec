"""Real processes a fault test may kill and start again: a private PostgreSQL (its own data
directory and port), a private Redis (append-only file, fsync at every write) and the review
ingester exactly as production runs it (`python -m shared.cli ingester`, configured by its
environment). The faults are the real ones: SIGKILL, PostgreSQL's immediate shutdown.

Every process is started in its own session and registered with :class:`Children`, whose
``stop_all()`` ends exactly those processes (never anything found by name)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import psycopg
import redis

from devstack.embedded import free_port, redis_server_binary, wait_port

ROOT = Path(__file__).resolve().parents[2]


def wait_for(
    what: str, predicate: Callable[[], bool], *, timeout: float, every: float = 0.05, why: Callable[[], str] = str
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; {why()}")
        time.sleep(every)


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Children:
    """The processes one test started."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(
        self,
        args: list[str],
        *,
        log: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        **run_as: Any,
    ) -> subprocess.Popen[bytes]:
        with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
            p = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True, **run_as
            )
        self.procs.append(p)
        return p

    def stop_all(self, timeout: float = 10) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
        for p in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout)
        self.procs.clear()


def kill9(p: subprocess.Popen[bytes]) -> None:
    """`kill -9` of the process (and its session: nothing it started survives it)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(p.pid, signal.SIGKILL)
    p.wait(10)


# --- PostgreSQL -------------------------------------------------------------------------------------


def postgres_bindir() -> Path:
    """The machine's PostgreSQL binaries, else the ones pgserver bundles."""
    system = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True)
    for d in system:
        if (d / "initdb").exists() and (d / "postgres").exists():
            return d
    from pgserver._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _unprivileged_account() -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root: as root, run it as `postgres` (or `nobody`)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root and no unprivileged account to run PostgreSQL as")


class PrivatePostgres:
    """A PostgreSQL of one test: initdb into a temporary directory, started, crashed and started
    again on the same data directory and port."""

    def __init__(self, children: Children) -> None:
        self.children = children
        # Not under pytest's tmp_path: that is private to the user running the tests, and the
        # server may run as another one.
        self.root = Path(tempfile.mkdtemp(prefix="sangkien-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.bindir = postgres_bindir()
        self.account = _unprivileged_account()
        self.proc: subprocess.Popen[bytes] | None = None
        if self.account is not None:
            os.chown(self.root, self.account.pw_uid, self.account.pw_gid)
        subprocess.run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            **self._run_as(),
        )

    def _run_as(self) -> dict[str, Any]:
        a = self.account
        return {} if a is None else {"user": a.pw_uid, "group": a.pw_gid, "extra_groups": []}

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def answers(self) -> bool:
        try:
            with psycopg.connect(self.url(), connect_timeout=1) as c:
                c.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def start(self, timeout: float = 30) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.proc = self.children.spawn(
            [
                str(self.bindir / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={self.root}",
                # The faults here kill processes, not the machine: what PostgreSQL wrote is in the
                # page cache either way, so fsync would only slow the test down.
                "-c",
                "fsync=off",
            ],
            log=self.log,
            **self._run_as(),
        )
        proc = self.proc

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited with {proc.returncode}:\n{tail(self.log)}")
            return self.answers()

        wait_for("PostgreSQL to accept connections", ready, timeout=timeout, every=0.1, why=lambda: tail(self.log))

    def crash(self) -> None:
        """What `pg_ctl stop -m immediate` does: SIGQUIT to the postmaster, every backend quits at
        once, no checkpoint; the next start recovers from the WAL."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            kill9(self.proc)

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.crash()
        shutil.rmtree(self.root, ignore_errors=True)


# --- Redis -------------------------------------------------------------------------------------------


class PrivateRedis:
    """A Redis of one test, durable the way production's is meant to be (append-only file,
    fsync at every write), killed with SIGKILL and started again on the same directory."""

    def __init__(self, children: Children) -> None:
        self.children = children
        self.dir = Path(tempfile.mkdtemp(prefix="sangkien-redis-"))
        self.log = self.dir / "redis.log"
        self.port = free_port()
        self.binary = shutil.which("redis-server") or redis_server_binary()
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url(), socket_timeout=5, socket_connect_timeout=1)

    def start(self, timeout: float = 15) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        # fmt: off
        self.proc = self.children.spawn(
            [
                self.binary,
                "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.dir),
                "--appendonly", "yes", "--appendfsync", "always", "--save", "",
            ],
            log=self.log,
        )
        # fmt: on
        wait_port("127.0.0.1", self.port, timeout, self.proc)
        client = self.client()

        def loaded() -> bool:
            try:
                return int(client.info("persistence")["loading"]) == 0
            except redis.BusyLoadingError:
                return False

        wait_for("Redis to load its append-only file", loaded, timeout=timeout, why=lambda: tail(self.log))

    def kill(self) -> None:
        assert self.proc is not None
        kill9(self.proc)

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


# --- the ingester ------------------------------------------------------------------------------------


class IngesterProcesses:
    """`sangkien ingester` as a real process, each start with its own log."""

    def __init__(self, children: Children, env: Mapping[str, str], log_dir: Path) -> None:
        self.children = children
        self.env = dict(env)
        self.log_dir = log_dir
        self.started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, **over: str) -> subprocess.Popen[bytes]:
        log = self.log_dir / f"ingester-{len(self.started) + 1}.log"
        env = {**os.environ, **self.env, **over}
        p = self.children.spawn([sys.executable, "-m", "shared.cli", "ingester"], log=log, env=env, cwd=ROOT)
        self.started.append((p, log))
        return p

    def full_log(self, proc: subprocess.Popen[bytes]) -> str:
        return next(log for p, log in self.started if p is proc).read_text(errors="replace")

    def logs(self) -> str:
        return "\n".join(f"--- {log.name} (exit {p.poll()})\n{tail(log, 25)}" for p, log in self.started)
