"""The FastAPI application shell every service builds on: request ids, structured access logs,
Prometheus metrics, /healthz, /readyz, security headers and the one domain-error handler."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from shared.errors import DomainError
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

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", ()),
                    (b"x-request-id", request_id.encode()),
                    *SECURITY_HEADERS,
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
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
) -> FastAPI:
    """``otel=False`` turns FastAPI's native OpenTelemetry instrumentation off. The platform's
    metrics are Prometheus's (below) and no OpenTelemetry SDK is installed, so it records nothing
    here; but deciding so costs every request three provider look-ups (each through
    ``os.environ``): a few µs that intake's hot route does not spend."""
    extra: dict[str, Any] = {} if otel else {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    app = FastAPI(title=title or f"Sáng kiến — {service}", lifespan=lifespan, version="1", **extra)

    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {
                "code": "du_lieu_khong_hop_le",
                "message": "Dữ liệu không hợp lệ",
                "errors": _validation_errors(exc),
            },
            status_code=422,
        )

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

    app.add_middleware(ObservabilityMiddleware, service=service)
    return app
