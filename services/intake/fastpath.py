"""The one hot route, ``POST /api/v1/submissions``, handed straight to its endpoint.

At the deadline nearly every request is this one, and FastAPI's way to it (exception middleware,
exit stack, route matching over every route of the API and the portal, dependency solving, the
request-response wrappers) cost more CPU than intake's own work. This middleware sits innermost
among the app's middlewares (inside the observability middleware: request id, security headers,
metrics and logs are unchanged) and runs what the endpoint runs (``api.submit_raw``) on the bare
ASGI request; a domain error goes to the app's own exception handler, anything else propagates as
it would have. Every other request continues down the usual stack, and the route stays declared
there (OpenAPI, and the 405 for other methods).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from services.intake.api import router, submit_raw

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PATH = "/api/v1/submissions"
ROUTE = next(r for r in router.routes if isinstance(r, APIRoute) and r.path == PATH and "POST" in (r.methods or ()))


def _route_path(scope: Scope) -> str:
    """The path the router would match (starlette's get_route_path: without the root path)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] == "/":
        return path[len(root) :]
    return path


class SubmitFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or _route_path(scope) != PATH:
            await self.app(scope, receive, send)
            return
        scope["route"] = ROUTE  # as the router would set it: the metrics and logs name the route
        try:
            body = await submit_raw(scope["app"], scope, receive)
        except Exception as exc:
            handler = _handler(scope, exc)
            if handler is None:
                raise
            request = Request(scope, receive, send)
            if inspect.iscoroutinefunction(handler):
                response = await handler(request, exc)
            else:
                response = await run_in_threadpool(handler, request, exc)
            exc.__traceback__ = None
            await response(scope, receive, send)
            return
        # What Response(body, 202, media_type="application/json") sends, without building one.
        await send(
            {
                "type": "http.response.start",
                "status": 202,
                "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _handler(scope: Scope, exc: Exception) -> Callable[..., Any] | None:
    """The app's handler for this exception, looked up as Starlette's ExceptionMiddleware does
    (status code of an HTTPException, then the class hierarchy). ``Exception`` itself is the
    server-error middleware's, further out: such an exception propagates."""
    handlers = scope["app"].exception_handlers
    if isinstance(exc, HTTPException) and exc.status_code in handlers:
        by_status: Callable[..., Any] = handlers[exc.status_code]
        return by_status
    for cls in type(exc).__mro__:
        if cls is Exception:
            break
        if cls in handlers:
            handler: Callable[..., Any] = handlers[cls]
            return handler
    return None
