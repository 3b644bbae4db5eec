"""Intake's HTTP surface: reading the body within a limit, headers, status codes. The rules
are in service.py."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

import httpx
import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response
from redis.exceptions import RedisError
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope

from services.intake import repository
from services.intake.schemas import (
    AcceptedOut,
    CampaignOut,
    Choice,
    ErrorOut,
    SubmissionIn,
    TrackingOut,
    UnitDetailOut,
    UnitOut,
)
from services.intake.service import IntakeService, Tracking
from services.intake.validation import DESCRIPTION_MAX
from shared.contracts.submissions import FIELD_LABELS, GROUP_LABELS, normalize_tracking_code
from shared.errors import NotFound, PayloadTooLarge, ServiceUnavailable, TooManyRequests, ValidationFailed
from shared.pii import InvalidPersonalData, normalize_phone
from shared.timeutil import format_vn, local, now

router = APIRouter(prefix="/api/v1")

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (403, 404, 409, 413, 422, 429, 503)}


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _svc(request: Request) -> IntakeService:
    svc: IntakeService = request.app.state.intake
    return svc


def client_ip(request: Request) -> str:
    """The caller's address; X-Forwarded-For is believed only from the trusted proxies (the
    ingress), read right to left so that a client cannot forge its way past the limit."""
    peer = request.client.host if request.client else "0.0.0.0"  # noqa: S104 - a placeholder, not a bind
    # Every X-Forwarded-For line, in order: a proxy may add its own line instead of appending.
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    return forwarded_client(peer, forwarded, request.app.state.trusted_proxies)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """The networks of the trusted proxies, and what each address seen turned out to be (a
    trusted proxy, another address, or no address at all): decided once per address, as the
    ingress's own address comes with every request and clients come back."""

    MAX_SEEN = 16_384

    def __init__(self, nets: Sequence[Network]) -> None:
        self.nets = tuple(nets)
        self._seen: dict[str, bool | None] = {}

    def __bool__(self) -> bool:
        return bool(self.nets)

    def trusts(self, addr: str) -> bool | None:
        """True for a trusted proxy, False for another address, None for no address at all."""
        try:
            return self._seen[addr]
        except KeyError:
            pass
        ip = _ip(addr)
        verdict = None if ip is None else any(ip in n for n in self.nets)
        if len(addr) <= 64:  # what an address can be; a client's garbage is not kept
            if len(self._seen) >= self.MAX_SEEN:
                self._seen.clear()
            self._seen[addr] = verdict
        return verdict


def forwarded_client(peer: str, forwarded_for: str, trusted: TrustedProxies) -> str:
    if not trusted or not trusted.trusts(peer):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        is_proxy = trusted.trusts(hop)
        if is_proxy is None:
            return peer  # "unknown", "1.2.3.4:5678": nothing further left can be believed
        if not is_proxy:
            return hop
    return peer


def _ip(addr: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(addr)
    except ValueError:
        return None


async def read_raw_body(receive: Receive, declared: str | None, limit: int) -> bytes:
    """Counts the bytes as they arrive: a lying or absent Content-Length cannot make us read
    more than ``limit``. (The ASGI messages as Starlette's ``Request.stream()`` reads them.)"""
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Nội dung gửi lên vượt quá {limit:,} byte".replace(",", "."))
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"Nội dung gửi lên vượt quá {limit:,} byte".replace(",", "."))
                chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()


@router.get("/campaign", response_model=CampaignOut, responses=ERRORS, summary="Đợt phát động đang phục vụ")
async def campaign(request: Request) -> Response:
    c = _svc(request).campaign()
    at = now()
    state = "upcoming" if at < c.opens_at else "closed" if at >= c.closes_at else "open"
    return _json(
        CampaignOut(
            code=c.code,
            name=c.name,
            opens_at=local(c.opens_at),
            closes_at=local(c.closes_at),
            opens_at_text=format_vn(c.opens_at),
            closes_at_text=format_vn(c.closes_at),
            state=state,
            server_time=local(at),
            groups=[Choice(code=k, label=v) for k, v in GROUP_LABELS.items()],
            fields=[Choice(code=k, label=v) for k, v in FIELD_LABELS.items()],
            description_max=DESCRIPTION_MAX,
        ).model_dump(mode="json")
    )


@router.get("/units", response_model=list[UnitOut], responses=ERRORS, summary="Các đơn vị của đợt phát động")
async def units(request: Request) -> Response:
    svc = _svc(request)
    c = svc.campaign()
    tenants = svc.require_directory().tenants(c.tree)
    return _json([{"code": t.code, "name": t.name, "kind": t.kind} for t in tenants])


@router.get("/units/{code}", response_model=UnitDetailOut, responses=ERRORS, summary="Đơn vị và các đơn vị trực thuộc")
async def unit(request: Request, code: str) -> Response:
    svc = _svc(request)
    c = svc.campaign()
    t = svc.require_directory().tenant(c.tree, code)
    if t is None:
        raise NotFound("Không tìm thấy đơn vị")
    children = [{"code": u.code, "name": u.name, "kind": u.kind} for u in t.tenant.units if u.code != t.tenant.code]
    return _json({"code": t.tenant.code, "name": t.tenant.name, "kind": t.tenant.kind, "children": children})


@router.post(
    "/submissions",
    status_code=202,
    response_model=AcceptedOut,
    responses=ERRORS,
    summary="Gửi sáng kiến",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": SubmissionIn.model_json_schema(ref_template="#/components/schemas/{model}")
                }
            },
        },
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 200},
            }
        ],
    },
)
async def submit(request: Request) -> Response:
    body = await submit_raw(request.app, request.scope, request.receive)
    return Response(body, status_code=202, media_type="application/json")


async def submit_raw(app: Any, scope: Scope, receive: Receive) -> bytes:
    """The endpoint on the bare ASGI request (fastpath.py calls it directly): the JSON of the
    202; a refusal is raised as a DomainError. Headers are read as Starlette reads them (the
    first of each name; ASGI servers give the names in lower case)."""
    svc: IntakeService = app.state.intake
    svc.check_window()
    length = idempotency_key = forwarded_for = None
    for name, value in scope["headers"]:
        if name == b"content-length":
            length = value.decode("latin-1") if length is None else length
        elif name == b"idempotency-key":
            idempotency_key = value.decode("latin-1") if idempotency_key is None else idempotency_key
        elif name == b"x-forwarded-for":  # every line, in order (see client_ip)
            hop = value.decode("latin-1")
            forwarded_for = hop if forwarded_for is None else f"{forwarded_for},{hop}"
    raw = await read_raw_body(receive, length, svc.settings.max_body_bytes)
    client = scope.get("client")
    peer = client[0] if client is not None else "0.0.0.0"  # noqa: S104 - a placeholder, not a bind
    ip = forwarded_client(peer, forwarded_for or "", app.state.trusted_proxies)
    accepted = await svc.submit(raw, idempotency_key=idempotency_key, client_ip=ip)
    return orjson.dumps(
        {
            "tracking_code": accepted.tracking_code,
            "status": accepted.status,
            "submitted_at": local(accepted.submitted_at).isoformat(),
            "track_url": f"/theo-doi?ma={accepted.tracking_code}",
        }
    )


@router.get(
    "/submissions/{tracking_code}",
    response_model=TrackingOut,
    responses=ERRORS,
    summary="Theo dõi kết quả",
)
async def track(
    request: Request,
    tracking_code: str,
    phone: str | None = Query(None, max_length=32, description="Số điện thoại đã khai (hoặc header X-Phone)"),
    x_phone: str | None = Header(None, max_length=32, description="Số điện thoại đã khai, ngoài địa chỉ URL"),
) -> Response:
    """The phone may come in the X-Phone header (the portal sends it there) so that it stays out
    of the access logs of proxies and ingresses, which record URLs."""
    svc = _svc(request)
    not_found = NotFound("Không tìm thấy sáng kiến với mã theo dõi và số điện thoại này")
    code = normalize_tracking_code(tracking_code)
    typed = x_phone or phone
    if not typed:
        raise ValidationFailed([{"field": "phone", "message": "Số điện thoại không được để trống"}])
    try:
        digest = svc.phone_digest(normalize_phone(typed))
    except InvalidPersonalData as exc:
        raise ValidationFailed([{"field": "phone", "message": str(exc)}]) from None
    if code is None:
        raise not_found
    settings = svc.settings
    window = settings.rate_window_seconds
    now_s = int(now().timestamp())
    try:
        hits = await repository.count_hit(
            request.app.state.redis, f"rl:tr:{client_ip(request)}:{now_s // window}", window
        )
    except (OSError, RedisError):
        hits = 0  # Redis away: review still answers, and it is the only cost
    if hits > settings.rate_limit_tracking_per_ip:
        raise TooManyRequests(
            "Tra cứu quá nhiều lần trong thời gian ngắn, vui lòng thử lại sau", retry_after=window - now_s % window
        )
    try:
        record = await repository.read_status(request.app.state.redis, code)
    except (OSError, RedisError):
        record = None
    if record is not None:
        t = svc.tracking(code, record, digest)
    else:
        t = await _ask_review(request, code, digest)
    return _json(_tracking_out(t))


def _tracking_out(t: Tracking) -> dict[str, Any]:
    return t.model_dump(mode="json")


async def _ask_review(request: Request, code: str, digest: str) -> Tracking:
    """The Redis record has expired (or Redis lost it): review holds the truth."""
    client: httpx.AsyncClient = request.app.state.review
    try:
        r = await client.get(f"/api/v1/tracking/{code}", headers={"X-Phone-Digest": digest})
    except httpx.HTTPError:
        raise ServiceUnavailable("Chưa tra cứu được kết quả, vui lòng thử lại sau", retry_after=10) from None
    if r.status_code == 404:
        raise NotFound("Không tìm thấy sáng kiến với mã theo dõi và số điện thoại này")
    if r.status_code != 200:
        raise ServiceUnavailable("Chưa tra cứu được kết quả, vui lòng thử lại sau", retry_after=10)
    return Tracking.model_validate_json(r.content)
