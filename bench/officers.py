"""Officers working in the review console while the soak's load runs (bench/soak.py): each signs
in as a demo officer of Thanh Hóa and, at a human's pace, pages through the queue, opens
initiatives, scores those the page lets them score and looks at the progress page. Every answer
is checked: a 5xx, a lost connection or a page without what it should show is an error; a 4xx the
console means (a closed round, a quota) is counted as a refusal."""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass, field

import httpx

CODE = re.compile(r"/console/sang-kien/(\d{1,3}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})")
SCORE = re.compile(r'name="diem_([a-z0-9_]+)"[^>]*>\s*<span class="muted">/ ([0-9.]+)')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class OfficerStats:
    requests: int = 0
    errors: list[str] = field(default_factory=list)  # 5xx, refused connections, timeouts, wrong pages
    scored: int = 0
    refused: int = 0  # a 4xx the console meant (a closed round, a quota): counted, not an error
    latencies: list[float] = field(default_factory=list)


class Officer(threading.Thread):
    """One officer at a human's pace (a page every ~0.5 s, faster than anyone clicks)."""

    def __init__(self, base: str, login: str, password: str, stop: threading.Event, seed: int) -> None:
        super().__init__(daemon=True, name=f"officer-{login}")
        self.base, self.login, self.password, self.stop_ = base, login, password, stop
        self.stats = OfficerStats()
        self.rng = random.Random(seed)  # noqa: S311 - a reproducible walk through pages, no secret
        self.lock = threading.Lock()

    def _get(self, c: httpx.Client, path: str) -> httpx.Response | None:
        return self._call(c, "GET", path)

    def _call(self, c: httpx.Client, method: str, path: str, **kw: object) -> httpx.Response | None:
        t = time.perf_counter()
        try:
            r = c.request(method, self.base + path, **kw)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            with self.lock:
                self.stats.requests += 1
                self.stats.errors.append(f"{method} {path}: {type(exc).__name__}")
            return None
        with self.lock:
            self.stats.requests += 1
            self.stats.latencies.append(time.perf_counter() - t)
            if r.status_code >= 500:
                self.stats.errors.append(f"{method} {path}: {r.status_code}")
            elif r.status_code >= 400:
                self.stats.refused += 1
        return r

    def _sign_in(self, c: httpx.Client) -> None:
        form = self._get(c, "/console/dang-nhap")
        m = CSRF.search(form.text if form is not None else "")
        if not m:
            raise RuntimeError(f"{self.login}: no sign-in form")
        r = self._call(
            c,
            "POST",
            "/console/dang-nhap",
            data={"login": self.login, "password": self.password, "csrf_token": m.group(1)},
        )
        if r is None or r.status_code != 303:
            raise RuntimeError(f"{self.login}: sign-in answered {r.status_code if r is not None else 'nothing'}")

    def run(self) -> None:
        with httpx.Client(timeout=30, follow_redirects=False) as c:
            self._sign_in(c)
            while not self.stop_.is_set():
                self.step(c)
                self.stop_.wait(self.rng.uniform(0.3, 0.7))

    def step(self, c: httpx.Client) -> None:
        roll = self.rng.random()
        if roll < 0.15:
            r = self._get(c, "/console/tien-do")
            self._expect(r, "Tiến độ")
            return
        page = self.rng.randint(1, 5)
        query = self.rng.choice(["", "&q=c%E1%BA%A3i+ti%E1%BA%BFn", "&linh_vuc=san_xuat", "&nhom=doanh_nghiep"])
        r = self._get(c, f"/console/sang-kien?trang={page}{query}")
        if not self._expect(r, "Sáng kiến") or r is None:
            return
        codes = CODE.findall(r.text)
        if not codes:
            return
        code = self.rng.choice(codes)
        detail = self._get(c, f"/console/sang-kien/{code}")
        if not self._expect(detail, code) or detail is None:
            return
        scores = SCORE.findall(detail.text)
        csrf = CSRF.search(detail.text)
        if scores and csrf and self.rng.random() < 0.5:
            data = {"csrf_token": csrf.group(1), "nhan_xet": "Đề nghị xem xét thêm hiệu quả áp dụng."}
            m = re.search(r'name="dot" value="([^"]*)"', detail.text)
            data["dot"] = m.group(1) if m else ""
            for criterion, top in scores:
                data[f"diem_{criterion}"] = f"{self.rng.uniform(0, float(top)):.1f}"
            posted = self._call(c, "POST", f"/console/sang-kien/{code}/cham-diem", data=data)
            if posted is not None and posted.status_code in (200, 303):
                with self.lock:
                    self.stats.scored += 1

    def _expect(self, r: httpx.Response | None, text: str) -> bool:
        if r is None or r.status_code != 200:
            return False
        if text not in r.text:
            with self.lock:
                self.stats.errors.append(f"{r.request.url.path}: 200 without “{text}”")
            return False
        return True
