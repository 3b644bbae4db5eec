"""The reminders' text, from templates (Vietnamese; HTML autoescaped, so a unit's name with markup
in it arrives as text). Subject and bodies are rendered when the reminder is planned and kept in
the ledger: what was sent is what the outbox shows.

Each tenant's administrator may replace the shipped wording (notify.templates); the default is
the files in templates/mail and the subjects below. Every template, shipped or edited, renders in
Jinja's sandbox with StrictUndefined: an administrator writes them, so ``{{ ''.__class__ }}`` and
its kin are refused, and a misspelt variable is an error at save time rather than a blank in a
thousand mails."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import structlog
from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from services.notify.schedule import days_left_text
from shared.contracts.obligations import DeadlineDue, UnitDue
from shared.errors import InvalidInput
from shared.timeutil import end_of_day, format_vn

log = structlog.get_logger("notify.messages")
NAMES = ("nhac_han", "qua_han")
FIELDS = {"subject": "tiêu đề", "body_text": "nội dung văn bản", "body_html": "nội dung HTML"}
_MAIL = Path(__file__).parent / "templates" / "mail"

# Two environments because only the HTML is escaped; both sandboxed, both strict.
_text_env = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
_html_env = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=True)


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Draft:
    """One template's three sources, as the administrator writes them."""

    subject: str
    body_text: str
    body_html: str


SUBJECTS = {
    "nhac_han": "[Sáng kiến] {{ days_left }}: hạn giới thiệu sáng kiến {{ d.round_name }} ({{ due_text }})",
    "qua_han": "[Sáng kiến] Quá hạn {{ due_text }}: {{ units|length }} đơn vị trực thuộc chưa giới thiệu đủ",
}
DEFAULTS = {
    n: Draft(SUBJECTS[n], (_MAIL / f"{n}.txt").read_text(encoding="utf-8"), (_MAIL / f"{n}.html").read_text("utf-8"))
    for n in NAMES
}
Templates = Mapping[str, Draft]


@functools.lru_cache(maxsize=256)
def _compile(source: str, html: bool) -> Template:
    # Cached by source: a plan renders the same few templates for every unit of every tenant.
    return (_html_env if html else _text_env).from_string(source)


def count_text(u: UnitDue) -> str:
    """“đã chọn 1/2 sáng kiến”, “đã chọn 0 sáng kiến, cần ít nhất 1”."""
    text = f"đã chọn {u.used}" + (f"/{u.max_count}" if u.max_count is not None else "") + " sáng kiến"
    need = u.min_count if u.min_count is not None else 1
    if u.used < need:
        text += f", cần ít nhất {need}"
    return text


def _one_line(s: str) -> str:
    return " ".join(s.split())  # a header never carries a line break from data


def _render(t: Draft, ctx: dict[str, object]) -> Message:
    subject = _one_line(_compile(t.subject, False).render(ctx))
    ctx = {**ctx, "subject": subject}  # the HTML's <title> shows it
    return Message(subject, _compile(t.body_text, False).render(ctx), _compile(t.body_html, True).render(ctx))


def reminder_context(d: DeadlineDue, u: UnitDue, offset: str, console_url: str) -> dict[str, object]:
    return {
        "d": d,
        "unit": u,
        "days_left": days_left_text(d.due_at, offset),
        "due_text": format_vn(d.due_at),
        "count_text": count_text(u),
        "link": console_url.rstrip("/") + u.console_path,
    }


@dataclass(frozen=True)
class Overdue:
    unit_name: str
    count_text: str


def escalation_context(d: DeadlineDue, parent_name: str, units: list[UnitDue], console_url: str) -> dict[str, object]:
    return {
        "d": d,
        "parent_name": parent_name,
        "units": [Overdue(u.unit_name, count_text(u)) for u in units],
        "due_text": format_vn(d.due_at),
        "link": console_url.rstrip("/") + "/console/tien-do",
    }


def _render_or_default(name: str, template: Draft | None, ctx: dict[str, object]) -> Message:
    if template is not None:
        try:
            return _render(template, ctx)
        except _RENDER_ERRORS:
            # Checked at save time with the sample; real data may still trip it (a None summed).
            # One tenant's wording never stops its units from being reminded: the default goes.
            log.warning("mail_template_failed", template=name, exc_info=True)
    return _render(DEFAULTS[name], ctx)


def reminder(d: DeadlineDue, u: UnitDue, offset: str, console_url: str, template: Draft | None = None) -> Message:
    return _render_or_default("nhac_han", template, reminder_context(d, u, offset, console_url))


def escalation(
    d: DeadlineDue, parent_name: str, units: list[UnitDue], console_url: str, template: Draft | None = None
) -> Message:
    return _render_or_default("qua_han", template, escalation_context(d, parent_name, units, console_url))


# A realistic context for checking a draft (and for the preview when the tenant has no deadline
# ahead): Thanh Hóa's round 1 of 2021, a district that has chosen one of two.
SAMPLE_DEADLINE = DeadlineDue(
    deadline_id=0,
    campaign_code="75k-2021",
    campaign_name="75 nghìn sáng kiến, vượt khó, phát triển",
    round_code="dot-1",
    round_name="Đợt 1 – Tháng Công nhân năm 2021",
    level_code="tinh",
    level_name="Liên đoàn Lao động tỉnh",
    due_at=end_of_day(dt.date(2021, 4, 16)),
    units=[],
)
SAMPLE_UNIT = UnitDue(
    unit_code="mau",
    unit_name="Liên đoàn Lao động huyện Hà Trung",
    email="hatrung@ldld.example.vn",
    parent_code="thanh-hoa",
    parent_name="Liên đoàn Lao động tỉnh Thanh Hóa",
    parent_email="tinh@ldld.example.vn",
    used=1,
    min_count=None,
    max_count=2,
    fulfilled=True,
    console_path="/console/de-cu?chuong_trinh=75k-2021&dot=dot-1",
)


def context(name: str, d: DeadlineDue, units: list[UnitDue], console_url: str) -> dict[str, object]:
    """What template ``name`` sees for this deadline: its first unit (nhắc hạn) or all (quá hạn)."""
    if name == "nhac_han":
        return reminder_context(d, units[0], "3d", console_url)
    return escalation_context(d, units[0].parent_name or "Đơn vị cấp trên", units, console_url)


# What an administrator's expression can raise while rendering ({{ 1 / 0 }}, {{ d.x + 1 }}).
_RENDER_ERRORS = (TemplateError, ArithmeticError, TypeError, ValueError, LookupError, AttributeError)


def _template_line(tb: TracebackType | None) -> int | None:
    # Jinja rewrites a render error's traceback so the template's own frames carry its lines.
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_checked(name: str, draft: Draft, ctx: dict[str, object]) -> Message:
    """The draft rendered, or InvalidInput naming the field (and the line) that failed."""
    if name not in NAMES:
        raise InvalidInput("Không có mẫu thư này", field="name")
    for field, source in (("subject", draft.subject), ("body_text", draft.body_text), ("body_html", draft.body_html)):
        try:
            _compile(source, field == "body_html")
        except TemplateSyntaxError as exc:
            raise _refused(field, exc, exc.lineno) from exc
    try:
        subject = _one_line(_compile(draft.subject, False).render(ctx))
    except TemplateError as exc:
        raise _refused("subject", exc, _template_line(exc.__traceback__)) from exc
    if not subject:
        raise InvalidInput("Tiêu đề thư không được để trống", field="subject")
    ctx = {**ctx, "subject": subject}
    out = {"subject": subject}
    for field, source in (("body_text", draft.body_text), ("body_html", draft.body_html)):
        try:
            out[field] = _compile(source, field == "body_html").render(ctx)
        except _RENDER_ERRORS as exc:
            raise _refused(field, exc, _template_line(exc.__traceback__)) from exc
    return Message(out["subject"], out["body_text"], out["body_html"])


def _refused(field: str, exc: Exception, line: int | None) -> InvalidInput:
    where = f" (dòng {line})" if line else ""
    return InvalidInput(f"Mẫu thư lỗi ở trường {FIELDS[field]} — {field}{where}: {exc}", field=field, line=line)


def check(name: str, draft: Draft) -> None:
    """A draft refused at save time unless it renders with the sample data."""
    render_checked(name, draft, context(name, SAMPLE_DEADLINE, [SAMPLE_UNIT], "https://sangkien.example.vn"))
