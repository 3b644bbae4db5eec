"""Small server-side SVG charts that a person reads at a glance: horizontal bars, a cumulative
line over days, and a meter against a target. Review's console and intake's public leaderboard
both draw them, hence here (no JavaScript, no chart library: the page is one HTML document).

Each chart is a ``<figure>``: the SVG (``role="img"``, a ``<title>`` and a ``<desc>`` that say
the numbers in words), and the same numbers as a table inside ``<details>`` for screen readers
and for whoever wants to copy them. Every piece of text is escaped here.

Layout without a viewBox that would shrink the text on a phone: widths are percentages of the
figure (bars, labels and the target scale with the screen; 13–14px text stays 13–14px),
heights are pixels. Only the line chart's path lives in a nested SVG stretched to the plot
(``preserveAspectRatio="none"``, strokes kept at screen width by ``non-scaling-stroke``).
Colours: the portal's blue #0b3d91 and red #b3261e, both above 7:1 and 6:1 on white.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BLUE = "#0b3d91"
RED = "#b3261e"
INK = "#1b1f24"
MUTED = "#4a5562"
TRACK = "#e6eaf0"
GRID = "#d5dbe3"
WRAP = 32  # characters of a bar's label per line: fits a 390px phone beside the value


def number(n: float) -> str:
    """12345 → '12.345' (Vietnamese thousands separator)."""
    return f"{round(n):,}".replace(",", ".")


def decimal(x: float, places: int = 1) -> str:
    """1.666 → '1,7'."""
    return f"{x:,.{places}f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def percent(x: float) -> str:
    return f"{round(x)}%"


@dataclass(frozen=True)
class Target:
    value: float
    label: str  # e.g. "Chỉ tiêu toàn tỉnh: 7.500 (đến 10/10/2021)"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str | None = None  # how the value reads; default: the number
    note: str | None = None  # a second, smaller line (e.g. "5 sáng kiến · 3 CĐCS")
    target: float | None = None  # this bar's own target, drawn as a tick across it


def wrap(text: str, width: int = WRAP) -> list[str]:
    """Words into lines of at most ``width`` characters (a longer word gets a line of its own)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line] if line else lines or [""]


def nice_max(value: float) -> float:
    """The top of an axis at or above ``value``: a step of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8
    times a power of ten, so that its quarters (the grid lines) are round numbers too."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop ends at 10


def axis_top(value: float, ticks: int = 4) -> float:
    """The top of a counted axis with ``ticks`` grid lines above zero, each a whole, round
    number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5 or 8 times a power of ten): 14 → 16 (4, 8, 12),
    57 → 60 (15, 30, 45), 7,875 → 8,000."""
    raw = value / ticks
    if raw <= 1:
        return float(ticks)
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5, 8, 10):
        step = m * power
        if step >= raw and float(step).is_integer():
            return float(step * ticks)
    return float(10 * power * ticks)  # pragma: no cover - the loop ends at 10


def _pct(value: float, top: float) -> str:
    if top <= 0:
        return "0.00%"
    return f"{max(0.0, min(100.0, 100.0 * value / top)):.2f}%"


def _svg_open(chart_id: str, title: str, desc: str, height: float) -> str:
    t, d = f"{chart_id}-t", f"{chart_id}-d"
    return (
        f'<svg class="chart-svg" role="img" aria-labelledby="{t} {d}" width="100%" height="{height:.0f}" '
        f'xmlns="http://www.w3.org/2000/svg" style="display:block;overflow:visible">'
        f'<title id="{t}">{escape(title)}</title><desc id="{d}">{escape(desc)}</desc>'
    )


def _text(
    x: str,
    y: float,
    s: str,
    *,
    size: float = 14,
    anchor: str = "start",
    fill: str = INK,
    bold: bool = False,
    halo: bool = False,
) -> str:
    weight = ' font-weight="700"' if bold else ""
    # A white outline under the letters keeps a label readable where it crosses the line.
    outline = ' stroke="#fff" stroke-width="4" stroke-linejoin="round" paint-order="stroke"' if halo else ""
    return (
        f'<text x="{x}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{weight}{outline}>'
        f"{escape(s)}</text>"
    )


def _table(caption: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + f'<th scope="row">{escape(r[0])}</th>' + "".join(f"<td>{escape(c)}</td>" for c in r[1:]) + "</tr>"
        for r in rows
    )
    return (
        f'<details class="chart-data"><summary>Bảng số liệu</summary>'
        f'<table><caption class="sr-only">{escape(caption)}</caption><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></details>"
    )


def _figure(chart_id: str, title: str, svg: str, table: str, legend: str = "", *, caption: bool = True) -> Markup:
    # Without a caption (the page's heading says it), the SVG's <title> still names the chart.
    head = f'<figcaption class="chart-title">{escape(title)}</figcaption>' if caption else ""
    return Markup(  # noqa: S704 - every piece of text above went through escape()
        f'<figure class="chart" id="{chart_id}">{head}{legend}{svg}{table}</figure>'
    )


def _legend(items: Sequence[tuple[str, str, bool]]) -> str:
    """(colour, label, dashed) swatches above the chart, in HTML so they wrap on a phone."""
    spans = []
    for colour, label, dashed in items:
        style = f"border-top:3px {'dashed' if dashed else 'solid'} {colour}"
        spans.append(f'<span class="chart-key"><i aria-hidden="true" style="{style}"></i>{escape(label)}</span>')
    return f'<p class="chart-legend">{"".join(spans)}</p>'


# --- horizontal bars ------------------------------------------------------------------------------


def bar_chart(
    chart_id: str,
    title: str,
    bars: Sequence[Bar],
    *,
    target: Target | None = None,
    scale_max: float | None = None,
    label_header: str = "Mục",
    value_header: str = "Số sáng kiến",
    empty: str = "Chưa có số liệu.",
    target_suffix: str = "",
) -> Markup:
    """One row per bar: its label (wrapped) with the value at the right, the bar under it on a
    full-width track, a red tick where the bar's target (or the chart's) lies."""
    targets = [b.target if b.target is not None else (target.value if target else None) for b in bars]
    top = scale_max or nice_max(max([b.value for b in bars] + [t or 0 for t in targets], default=0))
    parts: list[str] = []
    y = 4.0
    for bar, goal in zip(bars, targets, strict=True):
        shown = bar.text if bar.text is not None else number(bar.value)
        for i, line in enumerate(wrap(bar.label)):
            y += 17
            parts.append(_text("0", y, line))
            if i == 0:
                parts.append(_text("100%", y, shown, anchor="end", bold=True))
        if bar.note:
            y += 16
            parts.append(_text("0", y, bar.note, size=12.5, fill=MUTED))
        y += 6
        parts.append(f'<rect x="0" y="{y:.1f}" width="100%" height="12" rx="3" fill="{TRACK}"/>')
        if bar.value > 0:
            parts.append(f'<rect x="0" y="{y:.1f}" width="{_pct(bar.value, top)}" height="12" rx="3" fill="{BLUE}"/>')
        if goal is not None:
            x = _pct(goal, top)
            parts.append(
                f'<line x1="{x}" x2="{x}" y1="{y - 4:.1f}" y2="{y + 16:.1f}" stroke="{RED}" stroke-width="3"/>'
            )
        y += 12 + 10
    if not bars:
        y += 20
        parts.append(_text("0", y, empty, fill=MUTED))
    desc = "; ".join(f"{b.label}: {b.text if b.text is not None else number(b.value)}" for b in bars) or empty
    if target:
        desc += f". {target.label}"
    svg = _svg_open(chart_id, title, desc, y + 4) + "".join(parts) + "</svg>"
    headers = [label_header, value_header] + (["Chỉ tiêu"] if any(t is not None for t in targets) else [])
    rows = [
        [b.label, b.text if b.text is not None else number(b.value)]
        + ([_target_text(t) + (target_suffix if t is not None else "")] if any(x is not None for x in targets) else [])
        for b, t in zip(bars, targets, strict=True)
    ]
    legend = _legend([(BLUE, value_header, False), (RED, target.label, False)]) if target else ""
    return _figure(chart_id, title, svg, _table(title, headers, rows), legend)


def _target_text(t: float | None) -> str:
    if t is None:
        return "—"
    return number(t) if float(t).is_integer() else decimal(t)


# --- a cumulative line over days ------------------------------------------------------------------


def cumulative_chart(
    chart_id: str,
    title: str,
    per_day: Sequence[tuple[dt.date, int]],
    *,
    start: dt.date,
    end: dt.date,
    targets: Sequence[Target] = (),
    value_label: str = "Sáng kiến cộng dồn",
) -> Markup:
    """The running total from ``start`` to ``end`` (both included; days without any count stay
    flat), with each target as a dashed horizontal line labelled at the right."""
    counts = dict(per_day)
    start = min([start, *counts])
    end = max([end, start + dt.timedelta(days=1), *counts])
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    running, series = 0, []
    for d in days:
        running += counts.get(d, 0)
        series.append(running)
    top = axis_top(max([running, *(t.value for t in targets)]) * 1.05)
    pad, plot_h, axis_h = 20.0, 180.0, 26.0
    n = len(days) - 1

    def y_of(v: float) -> float:
        return plot_h * (1 - v / top)

    parts: list[str] = []
    for i in range(5):  # grid lines with their value sitting on them, at the left
        v = top * i / 4
        gy = pad + y_of(v)
        parts.append(f'<line x1="0" x2="100%" y1="{gy:.1f}" y2="{gy:.1f}" stroke="{GRID}" stroke-width="1"/>')
        parts.append(_text("0", gy - 4, number(v), size=12, fill=MUTED))
    pts = " ".join(f"{1000 * i / n:.1f},{y_of(v):.1f}" for i, v in enumerate(series))
    parts.append(
        f'<svg x="0" y="{pad:.0f}" width="100%" height="{plot_h:.0f}" viewBox="0 0 1000 {plot_h:.0f}" '
        f'preserveAspectRatio="none" aria-hidden="true">'
        f'<polygon points="0,{plot_h:.0f} {pts} 1000,{plot_h:.0f}" fill="{BLUE}" fill-opacity="0.12"/>'
        f'<polyline points="{pts}" fill="none" stroke="{BLUE}" stroke-width="3" stroke-linejoin="round" '
        f'vector-effect="non-scaling-stroke"/></svg>'
    )
    for t in targets:
        ty = pad + y_of(t.value)
        parts.append(
            f'<line x1="0" x2="100%" y1="{ty:.1f}" y2="{ty:.1f}" stroke="{RED}" stroke-width="2" '
            f'stroke-dasharray="7 5"/>'
        )
        parts.append(_text("100%", ty - 5, t.label, size=12.5, anchor="end", fill=RED, bold=True, halo=True))
    ticks = sorted({round(n * k / 4) for k in range(5)}) if n >= 4 else list(range(n + 1))
    for i in ticks:
        anchor = "start" if i == 0 else "end" if i == n else "middle"
        parts.append(
            _text(f"{100 * i / n:.2f}%", pad + plot_h + 18, f"{days[i]:%d/%m}", size=12, anchor=anchor, fill=MUTED)
        )
    goal = "; ".join(t.label for t in targets)
    desc = f"{value_label} từ {start:%d/%m/%Y} đến {end:%d/%m/%Y}: {number(running)}." + (f" {goal}." if goal else "")
    svg = _svg_open(chart_id, title, desc, pad + plot_h + axis_h) + "".join(parts) + "</svg>"
    rows = []
    running = 0
    for d in days:
        running += counts.get(d, 0)
        if counts.get(d):
            rows.append([f"{d:%d/%m/%Y}", number(counts[d]), number(running)])
    legend = _legend([(BLUE, value_label, False), *((RED, t.label, True) for t in targets)])
    return _figure(chart_id, title, svg, _table(title, ["Ngày", "Trong ngày", "Cộng dồn"], rows), legend)


# --- one number against its target ----------------------------------------------------------------


def meter(
    chart_id: str, title: str, value: float, target: Target, *, value_text: str | None = None, caption: bool = True
) -> Markup:
    """A thick bar filled to ``value`` out of ``target.value`` (beyond it: full), with both
    numbers and the share in words."""
    share = 100.0 * value / target.value if target.value else 0.0
    shown = value_text or number(value)
    parts = [
        _text("0", 18, shown, size=22, bold=True),
        _text("100%", 18, f"{decimal(share)}%", size=16, anchor="end", bold=True, fill=BLUE),
        f'<rect x="0" y="28" width="100%" height="20" rx="6" fill="{TRACK}"/>',
    ]
    if value > 0:
        parts.append(f'<rect x="0" y="28" width="{_pct(value, target.value)}" height="20" rx="6" fill="{BLUE}"/>')
    parts.append(_text("0", 68, target.label, size=13, fill=MUTED))
    desc = f"{shown} trên {target.label}, đạt {decimal(share)}%."
    svg = _svg_open(chart_id, title, desc, 76) + "".join(parts) + "</svg>"
    table = _table(
        title,
        ["Chỉ số", "Giá trị"],
        [["Đã có", shown], ["Chỉ tiêu", number(target.value)], ["Đạt", f"{decimal(share)}%"]],
    )
    return _figure(chart_id, title, svg, table, caption=caption)
