"""Rendering of nomination dossiers (hồ sơ xét chọn): the Tờ trình of a unit's standing
committee and its Bảng tổng hợp tóm tắt sáng kiến, to PDF (WeasyPrint, from HTML) and DOCX
(python-docx), both from the same worked-out content (``content.build``).

Pure: no I/O but reading the package's own templates and fonts. The Celery task stores what
these return.
"""

from __future__ import annotations

from services.reporting.render.pdf import render_html, render_pdf
from services.reporting.render.word import render_docx

__all__ = ["render_docx", "render_html", "render_pdf"]
