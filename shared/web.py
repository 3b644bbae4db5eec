"""The FastAPI application shell every service builds on: request ids, structured access logs,
Prometheus metrics, /healthz, /readyz, security headers and the one domain-error handler."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

import orjson
import psycopg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared import apidocs, outage
from shared.apierrors import error_responses
from shared.bodylimit import BodyLimit
from shared.errors import DomainError, ValidationFailed
from shared.health import Check, run_checks
from shared.pii import mask_text

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUESTS = Counter("http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        b"script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    ),
    (b"x-frame-options", b"DENY"),
]


class ObservabilityMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware) because intake's hot path cannot afford the extra task
    per request. Binds a request id to the log context, times the request, adds headers."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self.log = structlog.get_logger("http")
        # The labelled series by (method, route, status), looked up once each: ``labels()`` takes
        # a lock and builds its key on every call, twice per request.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def _metrics(self, method: str, path: str, status: int) -> tuple[Any, Any]:
        key = (method, path, status)
        series = self._series.get(key)
        if series is None:
            series = (
                REQUESTS.labels(self.service, method, path, str(status)),
                LATENCY.labels(self.service, method, path),
            )
            self._series[key] = series
        return series

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for k, v in scope.get("headers", []):
            if k == b"x-request-id":
                request_id = v.decode("latin-1")[:64]
                break
        # 128 random bits in hex, as uuid4().hex is (without building a UUID per request).
        request_id = request_id or os.urandom(16).hex()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        start = time.perf_counter()
        status = 500
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
                headers = list(message.get("headers", ()))
                # A header the route set itself stays its own; a second copy would be merged
                # into "nosniff, nosniff" (or, for a CSP, an intersection of two policies).
                present = {name for name, _ in headers}
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            # Starlette answers an unhandled exception further out than this middleware, so its
            # 500 would leave without the headers: answer here, and let it go on to be logged.
            if not started:
                await _server_error(scope, send_wrapper)
            raise
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            method = scope.get("method", "")
            requests, latency = self._metrics(method, path, status)
            requests.inc()
            latency.observe(elapsed)
            if status >= 500:
                self.log.warning("request", method=method, route=path, status=status, ms=round(elapsed * 1000, 2))
            structlog.contextvars.unbind_contextvars("request_id")


SERVER_ERROR = "Hệ thống gặp lỗi khi xử lý yêu cầu, vui lòng thử lại sau"


async def _server_error(scope: Scope, send: Send) -> None:
    # Never the exception's text: it may quote SQL and its parameters.
    body = orjson.dumps({"code": "loi_he_thong", "message": SERVER_ERROR})
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


# Starlette's own refusals (no route, another method, a redirect raised by a dependency), said
# in the platform's error body and in Vietnamese like every other.
HTTP_MESSAGES = {
    404: ("khong_tim_thay", "Không tìm thấy"),
    405: ("phuong_thuc_khong_ho_tro", "Phương thức này không được hỗ trợ tại địa chỉ này"),
}


UNREADABLE_BODY = "Nội dung gửi lên không đọc được (cần JSON hoặc biểu mẫu hợp lệ, mã UTF-8)"


def _http_error(exc: StarletteHTTPException) -> Response:
    if exc.status_code < 400:  # a redirect (the console's sign-in): its headers, no body
        return Response(status_code=exc.status_code, headers=exc.headers)
    if exc.status_code == 400:
        # FastAPI's and Starlette's "error parsing the body" (bytes that are not UTF-8, a broken
        # multipart form): a body that cannot be read, refused like any other invalid field.
        return _invalid_fields([{"field": "body", "message": UNREADABLE_BODY}])
    code, message = HTTP_MESSAGES.get(exc.status_code, ("yeu_cau_khong_hop_le", "Yêu cầu không hợp lệ"))
    return JSONResponse({"code": code, "message": message}, status_code=exc.status_code, headers=exc.headers)


def _invalid_fields(errors: list[dict[str, str]]) -> JSONResponse:
    """422 with each wrong field and its Vietnamese message: the body ValidationFailed renders."""
    exc = ValidationFailed(errors)
    return JSONResponse(exc.to_dict(), status_code=exc.status_code)


REFUSED_VALUE = "Giá trị chứa ký tự hoặc dữ liệu không lưu được (ví dụ ký tự NUL)"


def _data_error(request: Request) -> JSONResponse:
    """The database refused a value that passed validation (a NUL character, a number out of
    range): the request's data is at fault, not the server. The parameters holding a NUL are
    named; otherwise the body is."""
    params = [*request.path_params.items(), *request.query_params.multi_items()]
    fields = sorted({k for k, v in params if isinstance(v, str) and "\x00" in v}) or ["body"]
    return _invalid_fields([{"field": f, "message": REFUSED_VALUE} for f in fields])


def _validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        # pydantic's own message may echo the input; ours never does (it may be personal data).
        out.append({"field": ".".join(loc) or "body", "message": mask_text(str(err.get("msg", "")))})
    return out


def create_app(
    service: str,
    *,
    checks: Callable[[], list[Check]] | None = None,
    title: str | None = None,
    lifespan: Any = None,
    otel: bool = True,
    max_body_bytes: int | None = None,
    body_limits: Mapping[str, int] | None = None,
) -> FastAPI:
    """``otel=False`` turns FastAPI's native OpenTelemetry instrumentation off. The platform's
    metrics are Prometheus's (below) and no OpenTelemetry SDK is installed, so it records nothing
    here; but deciding so costs every request three provider look-ups (each through
    ``os.environ``): a few µs that intake's hot route does not spend.

    ``max_body_bytes``: request bodies past it are refused with 413 before they are read
    (shared/bodylimit.py); ``body_limits`` gives named routes a larger one."""
    extra: dict[str, Any] = {} if otel else {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    # What any operation may answer, whatever its route: a validation failure (in the platform's
    # body, not FastAPI's), a dependency away (shared/outage.py), a body past the limit. Each
    # router adds its own (401, 403, 404, 409, …: shared/apierrors.py).
    platform = error_responses(422, 503, *((413,) if max_body_bytes is not None else ()))
    app = FastAPI(
        title=title or f"Sáng kiến — {service}",
        lifespan=lifespan,
        version="1",
        responses=platform,
        docs_url=None,  # shared/apidocs.py serves /docs itself, under the platform's CSP
        redoc_url=None,
        **extra,
    )
    apidocs.install(app)

    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _starlette_error(_: Request, exc: StarletteHTTPException) -> Response:
        return _http_error(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _invalid_fields(_validation_errors(exc))

    # PostgreSQL or Redis away: 503 with Retry-After, never a 500 with a stack trace.
    outage.install(app)

    async def _refused_value(request: Request, exc: Exception) -> JSONResponse:
        structlog.get_logger("http").info("value_refused_by_database", error=type(exc).__name__)
        return _data_error(request)

    for cls in (sa_exc.DataError, psycopg.DataError):
        app.add_exception_handler(cls, _refused_value)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        # Liveness: the process answers. Dependencies belong to readiness: a database outage
        # must take pods out of rotation, not restart them all at once.
        return {"status": "ok", "service": service}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        results = await run_checks(checks() if checks else [])
        ok = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "service": service, "checks": results},
            status_code=200 if ok else 503,
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    if max_body_bytes is not None:
        # Added first, so inside the observability middleware: its 413 is counted and carries
        # the security headers like every other answer.
        app.add_middleware(BodyLimit, max_bytes=max_body_bytes, paths=body_limits)
    app.add_middleware(ObservabilityMiddleware, service=service)
    return app
