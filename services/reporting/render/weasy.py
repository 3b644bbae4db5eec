"""The one WeasyPrint call every PDF goes through, in this process or in a part's child
process (part.py), which imports this module alone so as to start as fast as it can."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint import HTML  # type: ignore[import-untyped]
from weasyprint.text.fonts import FontConfiguration  # type: ignore[import-untyped]
from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]

from services.reporting.render import fonts

TEMPLATES = Path(__file__).resolve().parent / "templates"


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


def write_pdf(html: str) -> bytes:
    """The PDF of one of our documents (templates/), fonts embedded (subsets)."""
    # A FontConfiguration per document: it owns the @font-face files WeasyPrint registers with
    # fontconfig for this document only.
    font_config = FontConfiguration()
    # base_url: nothing in the template is relative, but WeasyPrint must not resolve against the
    # working directory either.
    with _no_cyclic_gc():
        doc = HTML(string=html, base_url=TEMPLATES.as_uri() + "/", url_fetcher=_ShippedFontsOnly())
        out: bytes = doc.write_pdf(font_config=font_config)
    return out
