"""When reminders are due: pure functions of a deadline, the offsets and the clock (the tests
drive the clock). Every day and hour is Asia/Ho_Chi_Minh's: "3 days before 16/4" is 07:00 on
13/4 in Vietnam, whatever zone the server runs in.

A deadline of "24:00 ngày 16/4" is stored as the first instant of 17/4; its day, for the
reminders, is 16/4 (the day a person has until midnight)."""

from __future__ import annotations

import datetime as dt

from shared.timeutil import VN_TZ, local

DEFAULT_OFFSETS = ("7d", "3d", "1d", "0d")  # 7, 3 and 1 days before, and the morning of the day
ESCALATION = "qua-han"


def due_day(due_at: dt.datetime) -> dt.date:
    return local(due_at - dt.timedelta(microseconds=1)).date()


def send_at(due_at: dt.datetime, offset: str, morning: dt.time) -> dt.datetime:
    days = int(offset.removesuffix("d"))
    return dt.datetime.combine(due_day(due_at) - dt.timedelta(days=days), morning, tzinfo=VN_TZ)


def current_offset(due_at: dt.datetime, now: dt.datetime, offsets: tuple[str, ...], morning: dt.time) -> str | None:
    """The latest offset whose moment has come, while the deadline has not passed. A planner
    that was down over an earlier offset sends the latest one only, never a burst of three."""
    if now >= due_at:
        return None
    passed = [(send_at(due_at, o, morning), o) for o in offsets if send_at(due_at, o, morning) <= now]
    return max(passed)[1] if passed else None


def escalation_due(due_at: dt.datetime, now: dt.datetime, window: dt.timedelta) -> bool:
    """The parent of an overdue unit hears once, in the days right after the deadline."""
    return due_at <= now < due_at + window


def days_left_text(due_at: dt.datetime, offset: str) -> str:
    days = int(offset.removesuffix("d"))
    return "Hôm nay là ngày cuối" if days == 0 else f"Còn {days} ngày"
