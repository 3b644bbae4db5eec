"""Processes the bench starts (servers, the ingester) and the load generator (wrk)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.env import ROOT, destinations

WRK_DIR = Path(__file__).resolve().parent / "wrk"
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proc:
    """A process of ours, in its own process group (uvicorn's workers included), stopped by its id."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log
        self._log = log.open("wb")
        self.p = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            argv, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def alive(self) -> bool:
        return self.p.poll() is None

    def stop(self, timeout: float = 15) -> None:
        if self.alive():
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(5)
            except ProcessLookupError:
                pass
        self._log.close()

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


class Server(Proc):
    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path, port: int) -> None:
        super().__init__(name, argv, env, log)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def wait_ready(self, path: str = "/healthz", timeout: float = 30, consecutive: int = 8) -> None:
        """``consecutive`` good answers in a row: with two workers, both have started."""
        deadline = time.monotonic() + timeout
        good = 0
        with httpx.Client(timeout=2) as c:
            while good < consecutive:
                if not self.alive():
                    raise RuntimeError(f"{self.name} exited:\n{self.tail()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.tail()}")
                try:
                    good = good + 1 if c.get(self.url + path).status_code == 200 else 0
                except httpx.HTTPError:
                    good = 0
                if good < consecutive:
                    time.sleep(0.05 if good else 0.2)


def start_api(name: str, argv: list[str], env: dict[str, str], logdir: Path, ready_path: str) -> Server:
    port = free_port()
    s = Server(name, [*argv, "--port", str(port)], env, logdir / f"{name}.log", port)
    try:
        s.wait_ready(ready_path)
    except Exception:
        s.stop()
        raise
    return s


@dataclass
class WrkResult:
    connections: int
    duration_s: float
    accepted: int
    refused: int
    posted: int
    statuses: dict[str, int]
    errors: dict[str, int]
    latency_us: dict[str, float]
    raw: str

    @property
    def rate(self) -> float:
        return self.accepted / self.duration_s if self.duration_s else 0.0

    @property
    def socket_errors(self) -> int:
        return sum(v for k, v in self.errors.items() if k != "status")

    @property
    def failures(self) -> int:
        """Anything that is not a 202: other statuses, and requests that got no answer at all."""
        return self.refused + self.socket_errors

    def p(self, q: str) -> float:
        return self.latency_us[q] / 1000.0  # ms


def write_destinations(path: Path) -> Path:
    rows = []
    for tenant, subunit, weight in destinations():
        rows.extend([f'{{"{tenant}","{subunit}"}}'] * weight)
    path.write_text("return {\n" + ",\n".join(rows) + "\n}\n", encoding="utf-8")
    return path


def wrk_argv(
    url: str,
    *,
    connections: int,
    dest: Path,
    seed: int,
    duration: float,
    threads: int = 2,
    quota: int = 0,
    timeout: float = 10,
    script: str = "submit.lua",
    done_file: Path | None = None,
) -> list[str]:
    threads = min(threads, connections)
    argv = [
        "wrk",
        "--latency",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{int(duration)}s",
        f"--timeout={int(timeout)}s",
        "-s",
        str(WRK_DIR / script),
        url,
        "--",
        str(threads),
        str(quota),
        str(seed),
        str(dest),
    ]
    if done_file is not None:
        argv.append(str(done_file))
    return argv


def parse_wrk(out: str, returncode: int, connections: int) -> WrkResult:
    line = next((ln for ln in out.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({returncode}):\n{out}")
    d: dict[str, Any] = json.loads(line.removeprefix("BENCH_RESULT "))
    return WrkResult(
        connections=connections,
        duration_s=d["duration_us"] / 1e6,
        accepted=d["accepted"],
        refused=d["refused"],
        posted=d["posted"],
        statuses=d["statuses"],
        errors=d["errors"],
        latency_us=d["latency_us"],
        raw=out,
    )


def wrk(url: str, *, connections: int, duration: float = 10, **kw: Any) -> WrkResult:
    """One wrk run, to its end. ``quota`` > 0: exactly that many POSTs, ``duration`` is then a cap."""
    argv = wrk_argv(url, connections=connections, duration=duration, **kw)
    r = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=duration + 60)  # noqa: S603
    return parse_wrk(r.stdout + r.stderr, r.returncode, connections)


class WrkRun:
    """wrk in the background, posting exactly ``quota`` forms (the end-to-end run watches the
    stream meanwhile). wrk's threads stop once their share is answered, but wrk returns only after
    its -d: ``done()`` is true when every thread has said so, and then wrk is interrupted (SIGINT:
    it prints its summary as at the end of -d)."""

    def __init__(self, url: str, *, connections: int, duration: float, threads: int = 2, **kw: Any) -> None:
        self.connections = connections
        self.threads = min(threads, connections)
        self._dir = tempfile.TemporaryDirectory(prefix="wrk-")
        self.done_file = Path(self._dir.name) / "done"
        self.done_file.touch()
        self.p = subprocess.Popen(  # noqa: S603
            wrk_argv(url, connections=connections, duration=duration, threads=threads, done_file=self.done_file, **kw),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def done(self) -> bool:
        if self.p.poll() is not None:
            return True
        if len(self.done_file.read_text().split()) >= self.threads:
            self.p.send_signal(signal.SIGINT)
            return True
        return False

    def result(self, timeout: float = 60) -> WrkResult:
        out, _ = self.p.communicate(timeout=timeout)
        self._dir.cleanup()
        return parse_wrk(out, self.p.returncode, self.connections)

    def stop(self) -> None:
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)
            self.p.wait(10)
        self._dir.cleanup()
