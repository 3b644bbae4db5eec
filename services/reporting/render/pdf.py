"""HTML from the Jinja2 template, and the PDF WeasyPrint makes of it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import jinja2
from weasyprint import HTML  # type: ignore[import-untyped]
from weasyprint.text.fonts import FontConfiguration  # type: ignore[import-untyped]
from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]

from services.reporting.render import content, fonts
from shared.contracts.dossier import Dossier

TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        # On for every template, the CSS included: a title may hold "<script>", which must print.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


class _ShippedFontsOnly(URLFetcher):  # type: ignore[misc]
    """The only resources a dossier loads are the shipped fonts. Anything else is refused, and
    a font that fails to load stops the rendering (fail_on_errors) instead of letting WeasyPrint
    fall back silently to whatever face the machine has."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols={"file"}, fail_on_errors=True)

    def fetch(self, url: str, headers: Any = None) -> Any:
        path = Path(url2pathname(urlsplit(url).path)).resolve()
        if not path.is_relative_to(fonts.FONTS_DIR):
            raise ValueError(f"a dossier loads nothing but its fonts, not {url}")
        return super().fetch(url, headers)


def html_of(c: content.Content) -> str:
    return (
        _env()
        .get_template("dossier.html")
        .render(
            c=c,
            nation=content.NATION,
            motto=content.MOTTO,
            kind=content.DOC_KIND,
            table_title=content.TABLE_TITLE,
            widths=content.COLUMN_WIDTHS,
            portrait=content.PORTRAIT,
            landscape=content.LANDSCAPE,
            head_split=content.HEAD_SPLIT,
            head_size=content.HEAD_SIZE,
            faces=fonts.FACES,
            family=fonts.CSS_FAMILY,
        )
    )


def render_html(d: Dossier) -> str:
    """The HTML document the PDF is printed from (fonts referenced by file URL)."""
    return html_of(content.build(d))


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """WeasyPrint allocates millions of objects for a 1,000-row table and keeps most of them
    until the PDF is written; the cyclic collector's passes over that growing heap cost a tenth
    of the time and find little (a few thousand objects in cycles for 100 rows: the rest goes by
    reference counting with the document). Paused for the render only."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def render_pdf(d: Dossier) -> bytes:
    """The Tờ trình and its Bảng tổng hợp as one PDF, fonts embedded (subsets)."""
    # A FontConfiguration per document: it owns the @font-face files WeasyPrint registers with
    # fontconfig for this document only.
    font_config = FontConfiguration()
    # base_url: nothing in the template is relative, but WeasyPrint must not resolve against the
    # working directory either.
    html = render_html(d)
    with _no_cyclic_gc():
        doc = HTML(string=html, base_url=TEMPLATES.as_uri() + "/", url_fetcher=_ShippedFontsOnly())
        out: bytes = doc.write_pdf(font_config=font_config)
    return out
