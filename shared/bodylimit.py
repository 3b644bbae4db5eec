"""Request bodies over a limit are refused (413) before they are read. Pure ASGI.

* A Content-Length over the limit is answered at once: the application is never called and
  not one byte of the body is read.
* A chunked body (no Content-Length) is read here, up to the limit, before the application is
  called; one byte past it, 413. Reading ahead rather than counting as the application reads:
  a route that never reads its body (a POST with none expected) answers while uvicorn keeps
  reading, and discarding, whatever the client sends — all ten megabytes of it.
* The 413 says ``Connection: close``: uvicorn then closes the connection instead of parsing
  the unread rest of the body in search of the next request.

Limits are per service (its settings), with larger ones for named routes (review's import of
an Excel file). Intake's submission route counts its own bytes (services/intake/api.py); the
message is the same (:func:`too_large_message`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MIB = 1024 * 1024
CODE = "noi_dung_qua_lon"  # shared.errors.PayloadTooLarge's


def too_large_message(limit: int) -> str:
    if limit >= MIB and limit % MIB == 0:
        return f"Nội dung gửi lên vượt quá {limit // MIB} MB"
    return f"Nội dung gửi lên vượt quá {limit:,} byte".replace(",", ".")


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] == "/":
        return path[len(root) :]
    return path


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, *, paths: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.paths = dict(paths or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        if length is None and not chunked:  # no body at all: nothing to count
            await self.app(scope, receive, send)
            return
        limit = self.paths.get(_route_path(scope), self.max_bytes) if self.paths else self.max_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            await self._refuse(scope, send, limit)
            return
        if not chunked:
            # The server reads exactly Content-Length bytes as this body: no more can arrive.
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away mid-body: no one to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, send, limit)
                return
            if chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, limit: int) -> None:
        message = too_large_message(limit)
        accept = next((v for k, v in scope["headers"] if k == b"accept"), b"")
        if b"text/html" in accept:  # a browser's form post: a page a person can read
            body = (
                '<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Nội dung quá lớn</title>'
                f"</head><body><h1>Nội dung quá lớn</h1><p>{message}.</p>"
                "<p>Vui lòng quay lại và gửi tệp nhỏ hơn.</p></body></html>"
            ).encode()
            media = b"text/html; charset=utf-8"
        else:
            body = orjson.dumps({"code": CODE, "message": message})
            media = b"application/json"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", media),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read ahead, as one message; then the server's own receive (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
