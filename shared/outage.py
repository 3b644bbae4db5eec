"""A database that is away answers 503, not 500.

PostgreSQL restarting (or failing over), Redis restarting: the request could not be served now
and can be sent again in a moment, which is what 503 with Retry-After says — a load balancer and
the portal's script retry it, an on-call person is not paged for a bug. A 500 says the opposite,
and Starlette's would come with a stack trace in the log whose SQL may carry the request's data.

Only errors that mean "the server is not answering, or cannot serve this transaction now" are
turned into 503: the DBAPI's OperationalError and InterfaceError (refused, dropped, starting up,
shut down, a deadlock or serialisation failure, a statement cancelled), SQLAlchemy's pool timeout
and Redis's ConnectionError and TimeoutError. A constraint the data breaks (IntegrityError),
a programming error: those stay 500, they are bugs. Nothing of a transaction that failed so was
committed (the session rolls back at the boundary), so sending it again is safe.

The answer is the platform's error body (``code``, a Vietnamese ``message``) for API clients,
and a small page for browsers (``Accept: text/html``: the officers' console, the portal)."""

from __future__ import annotations

import html

import psycopg
import redis.exceptions
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import exc as sa_exc

from shared.errors import ServiceUnavailable

RETRY_AFTER_SECONDS = 5
MESSAGE = "Hệ thống tạm thời không truy cập được dữ liệu, vui lòng thử lại sau ít phút"
TITLE = "Hệ thống tạm thời gián đoạn"

UNAVAILABLE: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,  # DBAPIError wrapping psycopg's: refused, dropped, shutting down
    sa_exc.InterfaceError,  # the connection is already closed
    sa_exc.TimeoutError,  # no connection free in the pool in time
    psycopg.OperationalError,  # code that talks to psycopg itself
    psycopg.InterfaceError,
    redis.exceptions.ConnectionError,  # also BusyLoadingError: Redis replaying its append-only file
    redis.exceptions.TimeoutError,
)

log = structlog.get_logger("outage")

_PAGE = """<!doctype html>
<html lang="vi">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem">
<h1 style="font-size: 1.4rem">{title}</h1>
<p>{message}</p>
<p>Trang sẽ dùng lại được khi hệ thống phục hồi; bạn không cần đăng nhập lại.</p>
</body>
</html>
"""


def _which(exc: BaseException) -> str:
    """The failure's class, and the driver's underneath: never its text, which may quote the SQL
    and its parameters, or a server's address."""
    orig = getattr(exc, "orig", None)
    return type(exc).__name__ if orig is None else f"{type(exc).__name__}/{type(orig).__name__}"


def unavailable_response(request: Request, exc: Exception) -> Response:
    route = getattr(request.scope.get("route"), "path", "unmatched")
    log.warning("dependency_unavailable", error=_which(exc), method=request.method, route=route)
    error = ServiceUnavailable(MESSAGE, retry_after=RETRY_AFTER_SECONDS)
    headers = {**error.headers, "Cache-Control": "no-store"}
    if "text/html" in request.headers.get("accept", ""):
        page = _PAGE.format(title=html.escape(TITLE), message=html.escape(error.message))
        return HTMLResponse(page, status_code=error.status_code, headers=headers)
    return JSONResponse(error.to_dict(), status_code=error.status_code, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handler for every such error on ``app`` (shared.web.create_app does)."""

    async def handler(request: Request, exc: Exception) -> Response:
        return unavailable_response(request, exc)

    for cls in UNAVAILABLE:
        app.add_exception_handler(cls, handler)
