"""The reminders' text, from the templates in templates/mail (Vietnamese; HTML autoescaped, so a
unit's name with markup in it arrives as text). Subject and bodies are rendered when the
reminder is planned and kept in the ledger: what was sent is what the outbox shows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.notify.schedule import days_left_text
from shared.contracts.obligations import DeadlineDue, UnitDue
from shared.timeutil import format_vn

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates" / "mail"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


def count_text(u: UnitDue) -> str:
    """“đã chọn 1/2 sáng kiến”, “đã chọn 0 sáng kiến, cần ít nhất 1”."""
    text = f"đã chọn {u.used}" + (f"/{u.max_count}" if u.max_count is not None else "") + " sáng kiến"
    need = u.min_count if u.min_count is not None else 1
    if u.used < need:
        text += f", cần ít nhất {need}"
    return text


def _render(name: str, subject: str, ctx: dict[str, object]) -> Message:
    return Message(subject, _env.get_template(f"{name}.txt").render(ctx), _env.get_template(f"{name}.html").render(ctx))


def _one_line(s: str) -> str:
    return " ".join(s.split())  # a header never carries a line break from data


def reminder(d: DeadlineDue, u: UnitDue, offset: str, console_url: str) -> Message:
    days_left = days_left_text(d.due_at, offset)
    due_text = format_vn(d.due_at)
    subject = _one_line(f"[Sáng kiến] {days_left}: hạn giới thiệu sáng kiến {d.round_name} ({due_text})")
    ctx = {
        "d": d,
        "unit": u,
        "days_left": days_left,
        "due_text": due_text,
        "count_text": count_text(u),
        "link": console_url.rstrip("/") + u.console_path,
        "subject": subject,
    }
    return Message(
        subject, _env.get_template("nhac_han.txt").render(ctx), _env.get_template("nhac_han.html").render(ctx)
    )


@dataclass(frozen=True)
class Overdue:
    unit_name: str
    count_text: str


def escalation(d: DeadlineDue, parent_name: str, units: list[UnitDue], console_url: str) -> Message:
    due_text = format_vn(d.due_at)
    subject = _one_line(f"[Sáng kiến] Quá hạn {due_text}: {len(units)} đơn vị trực thuộc chưa giới thiệu đủ")
    ctx = {
        "d": d,
        "parent_name": parent_name,
        "units": [Overdue(u.unit_name, count_text(u)) for u in units],
        "due_text": due_text,
        "link": console_url.rstrip("/") + "/console/tien-do",
        "subject": subject,
    }
    return _render("qua_han", subject, ctx)
