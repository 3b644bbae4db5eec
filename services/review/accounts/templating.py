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


# The console's sections; the pages behind them come with the workflow (issue #4).
NAV: list[NavItem] = [
    NavItem("sang-kien", "Hàng đợi sáng kiến", "/console/sang-kien"),  # services/review/console
    NavItem("tien-do", "Tiến độ", "/console/tien-do"),
    NavItem("de-cu", "Đề cử", "/console/de-cu"),
    NavItem("cau-hinh", "Cấu hình", "/console/cau-hinh", frozenset({Role.quan_tri})),
]

CSS_PATH = _HERE / "static" / "console.css"
CSS = CSS_PATH.read_bytes()
CSS_VERSION = hashlib.sha256(CSS).hexdigest()[:12]
env.globals["css_url"] = f"/console/static/console.css?v={CSS_VERSION}"


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
    nav = [n for n in NAV if officer is not None and officer.role in n.roles]
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
