"""Rendering of the console's pages (Jinja2, autoescaped): one layout, ``console/_base.html``,
that every console page extends. Other parts of review render with :func:`render` after adding
their own template folder (:func:`add_templates`), so their pages share the header and nav."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.accounts.sessions import SessionData
from services.review.workflow.models import NATIONAL_TENANT_ID
from shared.timeutil import format_vn

_HERE = Path(__file__).parent
_loaders: list[FileSystemLoader] = [FileSystemLoader(_HERE / "templates")]
env = Environment(
    loader=ChoiceLoader(_loaders),  # the same list: add_templates() appends to it
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    href: str
    roles: frozenset[Role] = frozenset(Role)
    # True: only the Tổng Liên đoàn's officers; False: only the provinces' and sectors'.
    national: bool | None = None

    def shown_to(self, officer: Officer) -> bool:
        national = officer.tenant_id == NATIONAL_TENANT_ID
        return officer.role in self.roles and (self.national is None or self.national == national)


# The console's sections (services/review/console). The Tổng Liên đoàn holds no initiatives of
# its own: its officers see what the provinces nominated to it.
NAV: list[NavItem] = [
    NavItem("sang-kien", "Hàng đợi sáng kiến", "/console/sang-kien", national=False),
    NavItem("tien-do", "Tiến độ", "/console/tien-do"),  # the Tổng Liên đoàn's: the country's
    NavItem("de-cu", "Đề cử", "/console/de-cu", national=False),
    NavItem("toan-quoc", "Đề nghị toàn quốc", "/console/toan-quoc", national=True),
    NavItem("cau-hinh", "Cấu hình", "/console/cau-hinh", frozenset({Role.quan_tri}), national=False),
    NavItem("can-bo", "Cán bộ", "/console/can-bo", frozenset({Role.quan_tri})),
    NavItem("thu-nhac", "Thư nhắc hạn", "/console/thu-nhac", frozenset({Role.quan_tri}), national=False),
    # The units' contact addresses (notify's reminders); the Tổng Liên đoàn has no tree below it.
    NavItem("don-vi", "Đơn vị", "/console/don-vi", frozenset({Role.quan_tri}), national=False),
    # Personal data: who saw a person's data (services/review/audit) and until when it is kept
    # (services/review/retention).
    NavItem("ai-da-xem", "Ai đã xem dữ liệu", "/console/ai-da-xem", frozenset({Role.quan_tri}), national=False),
    NavItem("luu-tru", "Lưu trữ dữ liệu", "/console/luu-tru", frozenset({Role.quan_tri}), national=False),
]

CSS_PATH = _HERE / "static" / "console.css"
CSS = CSS_PATH.read_bytes()
CSS_VERSION = hashlib.sha256(CSS).hexdigest()[:12]
env.globals["css_url"] = f"/console/static/console.css?v={CSS_VERSION}"
env.filters["vn_time"] = format_vn  # every instant a person reads: Asia/Ho_Chi_Minh


def add_templates(folder: Path) -> None:
    """Let another package's templates extend ``console/_base.html`` (theirs are searched last)."""
    _loaders.append(FileSystemLoader(folder))


def render(
    request: Request,
    template: str,
    *,
    officer: Officer | None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    current: str | None = None,
    **ctx: Any,
) -> Response:
    session: SessionData | None = getattr(request.state, "console_session", None)
    nav = [n for n in NAV if officer is not None and n.shown_to(officer)]
    html = env.get_template(template).render(
        officer=officer,
        csrf_token=session.csrf if session is not None else "",
        nav=nav,
        current=current,
        **ctx,
    )
    # Pages show who is signed in and carry a CSRF token: never stored by a shared cache.
    h = {"Cache-Control": "no-store", **(headers or {})}
    return Response(html, status, h, "text/html; charset=utf-8")
