"""HTML from the Jinja2 template, and the PDF WeasyPrint makes of it: in one piece, or, for a
big table, in parts laid out side by side in child processes (split.py) and joined (merge.py)."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import cache

import jinja2

from services.reporting.render import content, fonts, merge, split
from services.reporting.render.weasy import TEMPLATES, write_pdf
from shared.contracts.dossier import Dossier

__all__ = ["Part", "html_of", "numbers_html", "render_html", "render_pdf", "write_pdf"]

log = logging.getLogger(__name__)

# From this many rows on, the table is rendered in parts, one per core (split.py). Measured on
# two cores (bench/render.py's dossiers, one piece against two parts): 100 rows 1.44 s against
# 1.77 s, 150 rows 2.20 s against 2.05 s, 200 rows 2.91 s against 2.42 s, 400 rows 6.14 s
# against 4.10 s. Below ~150 rows a second interpreter's start costs more than half the table
# saves; 200 leaves a margin, since with two renders at once on a busy worker parts gain nothing.
SPLIT_ROWS = 200
# Far beyond any render (a 1,000-row dossier takes seconds) and well within the ten minutes
# after which the broker hands the task to another worker (ReportingSettings).
PART_TIMEOUT_S = 300.0


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


@dataclass(frozen=True, slots=True)
class Part:
    """The rows a document has of the table, and whether it starts the dossier (the Tờ trình,
    the table's title; its pages numbered) and ends it (the signature under the table)."""

    rows: tuple[content.Row, ...]
    first: bool = True
    last: bool = True


@dataclass(frozen=True, slots=True)
class Numbering:
    numbered: bool  # the pages carry their numbers
    first_number: int | None = None  # None: the document starts the dossier, its first page bare


def html_of(c: content.Content, part: Part | None = None) -> str:
    part = part or Part(c.rows)
    return (
        _env()
        .get_template("dossier.html")
        .render(
            c=c,
            part=part,
            # A continuation part's numbers depend on the pages before it: stamped (merge.py).
            page=Numbering(numbered=part.first),
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


def numbers_html(first: int, count: int) -> str:
    """``count`` blank table pages numbered from ``first``: the continuation parts' numbers."""
    return (
        _env()
        .get_template("numbers.html")
        .render(
            count=count,
            page=Numbering(numbered=True, first_number=first),
            portrait=content.PORTRAIT,
            landscape=content.LANDSCAPE,
            faces=fonts.FACES,
            family=fonts.CSS_FAMILY,
        )
    )


def render_html(d: Dossier) -> str:
    """The HTML document the PDF is printed from (fonts referenced by file URL)."""
    return html_of(content.build(d))


def render_pdf(
    d: Dossier,
    *,
    split_rows: int = SPLIT_ROWS,
    parts: int | None = None,
    timeout: float = PART_TIMEOUT_S,
) -> bytes:
    """The Tờ trình and its Bảng tổng hợp as one PDF, fonts embedded (subsets).

    A table of ``split_rows`` rows or more is rendered in ``parts`` parts (default: one per
    core, up to four; 1 renders in one piece), the first in this process and each other in a
    child process of its own, which is killed if it is still running after ``timeout`` seconds
    or when anything fails; a child's failure raises split.PartFailed.

    A part ends at its last row, so the page before a part's first is not always full (the
    table's next row would have begun on it). Otherwise the pages are what the dossier in one
    piece has: each table page landscape under the header row, numbered on from the pages
    before (merge.py).
    """
    c = content.build(d)
    n = split.part_count(len(c.rows), split_rows, parts)
    if n < 2:
        return write_pdf(html_of(c))
    started = time.monotonic()
    chunks = split.plan(c.rows, n)
    htmls = [html_of(c, Part(rows, first=i == 0, last=i == n - 1)) for i, rows in enumerate(chunks)]
    with split.Children(htmls[1:], timeout) as children:
        first = write_pdf(htmls[0])
        first_pages = merge.page_count(first)
        first_done = time.monotonic()
        # The continuation pages' numbers, laid out while the children finish: as many as
        # their rows' height suggests, with a margin (any shortfall is made up below).
        ratio = sum(map(split.height, chunks[1:])) / split.height(chunks[0])
        numbers = [write_pdf(numbers_html(first_pages + 1, math.ceil(first_pages * ratio * 1.1) + 2))]
        rest = children.results()
    rest_pages = sum(map(merge.page_count, rest))
    have = sum(map(merge.page_count, numbers))
    if rest_pages > have:
        numbers.append(write_pdf(numbers_html(first_pages + 1 + have, rest_pages - have)))
    parts_done = time.monotonic()
    out = merge.join(first, rest, numbers)
    log.debug(
        "dossier PDF in %d parts (%s rows): first part %.2f s, all parts %.2f s, joined %.2f s",
        n,
        "+".join(str(len(x)) for x in chunks),
        first_done - started,
        parts_done - started,
        time.monotonic() - started,
    )
    return out
