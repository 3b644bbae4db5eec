"""The portal's pages: the registration form, tracking, and the QR codes printed on posters.

Rendering only. The rules (the campaign window, the form, tracking) live in service.py and
validation.py; the page's script talks to the JSON API in api.py, which is what decides. The
pages are built for a worker on a cheap phone on 3G: one HTML document, one small script and
one stylesheet (no framework, no CDN), compressed, the static files cached for a year.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.intake.directory import TenantIndex
from services.intake.leaderboard import Leaderboard
from services.intake.leaderboard import view as leaderboard_view
from services.intake.service import IntakeService, window_error
from services.intake.validation import DESCRIPTION_MAX
from shared.contracts.directory import CampaignEntry, TenantEntry, UnitEntry
from shared.contracts.submissions import FIELD_LABELS, GROUP_LABELS, STATUS_LABELS
from shared.errors import NotFound, ServiceUnavailable
from shared.timeutil import format_vn, local, now

router = APIRouter(include_in_schema=False)

_HERE = Path(__file__).parent
_env = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

# The QR code of the whole portal is /qr/cong.svg; every other name is a unit's code.
PORTAL_QR = "cong"
# Level M (15 % of the symbol can be lost) survives a creased or dirty poster; segno raises it
# further when that costs no extra size.
QR_ERROR = "m"
QR_PNG = {"scale": 8, "border": 4, "dark": "#000", "light": "#fff"}
# No size, a viewBox: the SVG scales to whatever the poster gives it. A white background so that
# a dark print or screen does not swallow the quiet zone.
QR_SVG = {"scale": 1, "border": 4, "dark": "#000", "light": "#fff", "xmldecl": False, "omitsize": True}

# Units in the selects are grouped by kind so that a province's ~40 entries stay readable.
TENANT_GROUPS = {
    "province": "Liên đoàn Lao động tỉnh, thành phố",
    "central_sector": "Công đoàn ngành Trung ương và tương đương",
}
OTHER_GROUP = "Đơn vị khác"
SUBUNIT_GROUPS = {
    "district": "Liên đoàn Lao động quận, huyện, thị xã, thành phố",
    "provincial_sector": "Công đoàn ngành địa phương",
    "industrial_zone": "Công đoàn các khu công nghiệp, khu kinh tế",
}
# A grassroots union directly under the province (or under a central sector union, which has no
# subunits at all) chooses the tenant itself; validation accepts the tenant's own code.
DIRECT_GROUP = "Trực thuộc trực tiếp"
DIRECT_PREFIX = "Công đoàn cơ sở trực thuộc "

PAGE_CACHE = "no-cache"  # the countdown carries the server's clock: never serve a stale copy
STATIC_CACHE = "public, max-age=31536000, immutable"  # the URL carries the content's hash
QR_CACHE = "public, max-age=86400"


# --- static files -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Asset:
    body: bytes
    gz: bytes
    media_type: str
    version: str


def _load_assets() -> dict[str, Asset]:
    types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
    out = {}
    for path in sorted((_HERE / "static").iterdir()):
        if path.suffix in types:
            body = path.read_bytes()
            out[path.name] = Asset(
                body, gzip.compress(body, 9, mtime=0), types[path.suffix], hashlib.sha256(body).hexdigest()[:12]
            )
    return out


_ASSETS = _load_assets()


def asset_url(name: str) -> str:
    return f"/static/{name}?v={_ASSETS[name].version}"


_env.globals["asset"] = asset_url


def _accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


@router.get("/static/{name}")
async def static(request: Request, name: str) -> Response:
    a = _ASSETS.get(name)
    if a is None:
        raise NotFound("Không tìm thấy tệp")
    etag = f'"{a.version}"'
    headers = {"Cache-Control": STATIC_CACHE, "ETag": etag, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if _accepts_gzip(request):
        return Response(a.gz, media_type=a.media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(a.body, media_type=a.media_type, headers=headers)


def _page(
    request: Request, template: str, status: int = 200, headers: dict[str, str] | None = None, **ctx: Any
) -> Response:
    html = _env.get_template(template).render(**ctx).encode()
    h = {"Cache-Control": PAGE_CACHE, "Vary": "Accept-Encoding", **(headers or {})}
    if _accepts_gzip(request) and len(html) > 1024:
        # Uvicorn compresses nothing and a 3G link is the bottleneck: the form is ~4x smaller.
        return Response(gzip.compress(html, 6), status, h | {"Content-Encoding": "gzip"}, "text/html; charset=utf-8")
    return Response(html, status, h, "text/html; charset=utf-8")


def _unavailable(request: Request, exc: ServiceUnavailable) -> Response:
    return _page(request, "message.html", 503, exc.headers, title="Cổng tiếp nhận chưa sẵn sàng", message=exc.message)


def _svc(request: Request) -> IntakeService:
    svc: IntakeService = request.app.state.intake
    return svc


# --- the campaign as the page shows it ----------------------------------------------------------


@dataclass(frozen=True)
class CampaignView:
    name: str
    state: Literal["upcoming", "open", "closed"]
    opens_text: str
    closes_text: str
    message: str | None  # why there is no form (closed or not yet open)
    server_ms: int
    target_ms: int | None  # what the countdown counts to: the close when open, the opening when upcoming
    countdown: str | None


def _opening_text(instant: dt.datetime) -> str:
    """An opening at midnight reads 'ngày 10/03/2021' (format_vn's '24:00 ngày 09/03' suits a close)."""
    t = local(instant)
    return f"ngày {t:%d/%m/%Y}" if (t.hour, t.minute) == (0, 0) else f"{t:%H:%M} ngày {t:%d/%m/%Y}"


def countdown_text(seconds: float) -> str:
    """'12 ngày 03:04:05' (portal.js draws the same, every second)."""
    s = max(0, int(seconds))
    days, rest = divmod(s, 86_400)
    clock = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days} ngày {clock}" if days else clock


def campaign_view(c: CampaignEntry, at: dt.datetime) -> CampaignView:
    problem = window_error(c, at)
    state: Literal["upcoming", "open", "closed"] = (
        "open" if problem is None else "upcoming" if at < c.opens_at else "closed"
    )
    target = {"open": c.closes_at, "upcoming": c.opens_at}.get(state)
    return CampaignView(
        name=c.name,
        state=state,
        opens_text=_opening_text(c.opens_at),
        closes_text=format_vn(c.closes_at),
        message=problem.message if problem else None,
        server_ms=int(at.timestamp() * 1000),
        target_ms=int(target.timestamp() * 1000) if target else None,
        countdown=countdown_text((target - at).total_seconds()) if target else None,
    )


def _grouped(items: list[Any], labels: dict[str, str]) -> list[tuple[str, list[Any]]]:
    """Items under their kind's label, in the labels' order, unknown kinds last."""
    groups: dict[str, list[Any]] = {label: [] for label in labels.values()}
    for item in items:
        groups.setdefault(labels.get(item.kind, OTHER_GROUP), []).append(item)
    return [(label, members) for label, members in groups.items() if members]


def tenant_groups(tenants: list[TenantEntry]) -> list[tuple[str, list[TenantEntry]]]:
    return _grouped(tenants, TENANT_GROUPS)


def subunit_groups(t: TenantIndex) -> list[tuple[str, list[tuple[str, str]]]]:
    """The choices of "Đơn vị trực thuộc" for one unit (portal.js builds the same from the API)."""
    children = [u for u in t.tenant.units if u.code != t.tenant.code]
    out = [(label, [(u.code, u.name) for u in units]) for label, units in _grouped(children, SUBUNIT_GROUPS)]
    out.append((DIRECT_GROUP, [(t.tenant.code, DIRECT_PREFIX + t.tenant.name)]))
    return out


def preselected_subunit(t: TenantIndex | None, wanted: str) -> str:
    """The subunit a QR link names, when it is one of the unit's; a union without subunits (a
    central sector union) has a single choice, itself."""
    if t is None:
        return ""
    if wanted in t.units:
        return wanted
    return t.tenant.code if len(t.units) == 1 else ""


# --- pages --------------------------------------------------------------------------------------


@router.get("/")
async def portal(request: Request) -> Response:
    svc = _svc(request)
    at = now()
    try:
        c = svc.campaign(at)
        directory = svc.require_directory()
    except ServiceUnavailable as exc:
        return _unavailable(request, exc)
    view = campaign_view(c, at)
    ctx: dict[str, Any] = {"c": view, "title": "Gửi sáng kiến" if view.state == "open" else "Theo dõi kết quả"}
    if view.state == "open":
        # ?don_vi=&truc_thuoc= is what a unit's QR code opens: the form arrives preselected.
        # Values not in the directory are ignored, never echoed.
        unit = directory.tenant(c.tree, request.query_params.get("don_vi", ""))
        ctx.update(
            tenants=tenant_groups(directory.tenants(c.tree)),
            unit=unit.tenant.code if unit else "",
            subunits=subunit_groups(unit) if unit else [],
            subunit=preselected_subunit(unit, request.query_params.get("truc_thuoc", "")),
            groups=GROUP_LABELS,
            fields=FIELD_LABELS,
            description_max=DESCRIPTION_MAX,
            description_max_text=f"{DESCRIPTION_MAX:,}".replace(",", "."),
            # portal.js groups the subunits it fetches exactly as subunit_groups() does here
            subunit_labels={
                "kinds": list(SUBUNIT_GROUPS.items()),
                "other": OTHER_GROUP,
                "direct": DIRECT_GROUP,
                "prefix": DIRECT_PREFIX,
            },
            status_labels=STATUS_LABELS,
        )
    return _page(request, "portal.html", **ctx)


@router.get("/bang-xep-hang")
async def leaderboard(request: Request) -> Response:
    """The live ranking of the provinces and central-sector unions (counts review publishes)."""
    svc = _svc(request)
    board: Leaderboard = request.app.state.leaderboard
    try:
        code: str | None = svc.campaign(now()).code
    except ServiceUnavailable:
        code = None  # no directory yet: the newest campaign's board
    found = board.board(code)
    if found is None or board.snapshot is None:
        exc = ServiceUnavailable("Bảng xếp hạng đang được cập nhật, vui lòng quay lại sau ít phút.")
        title = "Bảng xếp hạng chưa sẵn sàng"
        return _page(request, "message.html", 503, exc.headers, title=title, message=exc.message)
    # Rendered once per published version (~3 ms with its 83 bars): at a deadline many people
    # watch the ranking from the same servers that take the submissions.
    key = (board.version or "", found.code)
    page = board.pages.get(key)
    if page is None:
        v = leaderboard_view(found, board.snapshot.target, board.snapshot.published_at)
        html = _env.get_template("bang_xep_hang.html").render(title="Bảng xếp hạng", b=v, current="bang-xep-hang")
        page = board.pages[key] = (html.encode(), gzip.compress(html.encode(), 6))
    h = {"Cache-Control": PAGE_CACHE, "Vary": "Accept-Encoding"}
    if _accepts_gzip(request):
        return Response(page[1], 200, h | {"Content-Encoding": "gzip"}, "text/html; charset=utf-8")
    return Response(page[0], 200, h, "text/html; charset=utf-8")


@router.get("/theo-doi")
async def tracking(request: Request) -> Response:
    code = request.query_params.get("ma", "")[:32]
    return _page(request, "tracking.html", title="Theo dõi kết quả", ma=code, current="theo-doi")


# --- QR codes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QrTarget:
    url: str
    slug: str  # for the file name
    unit: TenantEntry | None = None
    subunit: UnitEntry | None = None


def qr_target(request: Request, unit: str, subunit: str | None) -> QrTarget:
    svc = _svc(request)
    base = svc.settings.public_url.rstrip("/")
    if unit == PORTAL_QR:
        return QrTarget(base + "/", PORTAL_QR)
    t = svc.require_directory().tenant(svc.campaign().tree, unit)
    if t is None:
        raise NotFound("Không tìm thấy đơn vị")
    query = {"don_vi": t.tenant.code}
    su = None
    if subunit:
        su = t.units.get(subunit)
        if su is None:
            raise NotFound("Không tìm thấy đơn vị trực thuộc")
        query["truc_thuoc"] = su.code
    return QrTarget(f"{base}/?{urlencode(query)}", "-".join(query.values()), t.tenant, su)


@functools.lru_cache(maxsize=1024)
def qr_image(url: str, kind: Literal["svg", "png"]) -> bytes:
    """A few posters are printed per unit, but a campaign launch may open them all at once."""
    buf = io.BytesIO()
    segno.make(url, error=QR_ERROR, micro=False).save(buf, kind=kind, **(QR_SVG if kind == "svg" else QR_PNG))
    return buf.getvalue()


def _qr_response(target: QrTarget, kind: Literal["svg", "png"]) -> Response:
    return Response(
        qr_image(target.url, kind),
        media_type="image/svg+xml" if kind == "svg" else "image/png",
        headers={
            "Cache-Control": QR_CACHE,
            "Content-Disposition": f'inline; filename="qr-{target.slug}.{kind}"',
        },
    )


# The image routes come before the poster's: "/qr/{unit}" would also match "cao-bang.svg".
@router.get("/qr/{unit}.svg")
async def qr_svg(request: Request, unit: str, truc_thuoc: str | None = None) -> Response:
    return _qr_response(qr_target(request, unit, truc_thuoc), "svg")


@router.get("/qr/{unit}.png")
async def qr_png(request: Request, unit: str, truc_thuoc: str | None = None) -> Response:
    return _qr_response(qr_target(request, unit, truc_thuoc), "png")


@router.get("/qr/{unit}")
async def poster(request: Request, unit: str, truc_thuoc: str | None = None) -> Response:
    """A printable A4 poster: who it is for, the campaign, the big code and the address under it."""
    svc = _svc(request)
    try:
        c = svc.campaign()
    except ServiceUnavailable as exc:
        return _unavailable(request, exc)
    target = qr_target(request, unit, truc_thuoc)
    query = f"?{urlencode({'truc_thuoc': target.subunit.code})}" if target.subunit else ""
    name = target.unit.code if target.unit else PORTAL_QR
    return _page(
        request,
        "poster.html",
        title="Áp phích mã QR",
        campaign=c.name,
        closes_text=format_vn(c.closes_at),
        target=target,
        svg_src=f"/qr/{name}.svg{query}",
        png_src=f"/qr/{name}.png{query}",
    )
