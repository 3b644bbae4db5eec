"""The API documents' page (/docs) served from this process, under the platform's CSP.

FastAPI's own /docs loads Swagger UI from a CDN and starts it with an inline script: the
Content-Security-Policy every answer carries (``script-src 'self'``, shared/web.py) blocks both,
and the machines of a provincial union's network may not reach a CDN anyway. Here the page, its
start-up script and Swagger UI's files (Swagger UI 5, which reads OpenAPI 3.1: the files of the
``fastapi-swagger`` wheel, whose own plugin code is not used) come from the service itself.
The files are read on first use, never at import time."""

from __future__ import annotations

import functools
import html
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
INIT_JS = (
    'window.ui = SwaggerUIBundle({url: document.body.dataset.openapi, dom_id: "#swagger-ui", '
    "deepLinking: true, presets: [SwaggerUIBundle.presets.apis]});\n"
)
PAGE = """<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" href="/docs/favicon-32x32.png">
</head>
<body data-openapi="{openapi}">
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""


@functools.cache
def _asset(name: str) -> bytes:
    return (resources.files("fastapi_swagger.resources") / name).read_bytes()


def install(app: FastAPI) -> None:
    """/docs and what it loads; the app must be built with ``docs_url=None, redoc_url=None``."""
    page = PAGE.format(title=html.escape(f"{app.title} — API"), openapi=html.escape(app.openapi_url or ""))

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/docs/init.js", include_in_schema=False)
    async def init() -> Response:
        return Response(INIT_JS, media_type="text/javascript; charset=utf-8")

    @app.get("/docs/{asset}", include_in_schema=False)
    async def asset(asset: str) -> Response:
        media = ASSETS.get(asset)
        if media is None:
            return Response(status_code=404)
        # Versioned by the installed wheel: a week in caches is safe, a deploy changes the page.
        return Response(_asset(asset), media_type=media, headers={"Cache-Control": "public, max-age=604800"})
