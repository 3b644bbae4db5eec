"""Rendering of nomination dossiers (hồ sơ xét chọn): the Tờ trình of a unit's standing
committee and its Bảng tổng hợp tóm tắt sáng kiến, to PDF (WeasyPrint, from HTML) and DOCX
(python-docx), both from the same worked-out content (``content.build``).

Pure: no I/O but reading the package's own templates and fonts, and, for a big table, child
processes that render parts of the PDF (split.py). The Celery task stores what these return.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.reporting.render.pdf import render_html, render_pdf
    from services.reporting.render.word import render_docx

__all__ = ["render_docx", "render_html", "render_pdf"]


def __getattr__(name: str) -> object:
    # Imported on first use: a part's child process (part.py) imports this package on its way
    # to WeasyPrint and must not pay for python-docx, pypdf and the templates as well.
    if name in ("render_html", "render_pdf"):
        from services.reporting.render import pdf

        return getattr(pdf, name)
    if name == "render_docx":
        from services.reporting.render import word

        return word.render_docx
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
