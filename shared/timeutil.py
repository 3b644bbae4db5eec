"""Time for people: every instant a person reads is shown in Asia/Ho_Chi_Minh."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: every stored instant must carry its zone")
    return instant.astimezone(VN_TZ)


def end_of_day(day: dt.date) -> dt.datetime:
    """'24:00 ngày 20/4/2021' — the first instant of the next day, in Vietnam."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=VN_TZ)


def format_vn(instant: dt.datetime) -> str:
    """'24:00 ngày 20/04/2021' for a midnight close, else 'HH:MM ngày dd/mm/yyyy'."""
    t = local(instant)
    if t.hour == 0 and t.minute == 0:
        prev = t - dt.timedelta(days=1)
        return f"24:00 ngày {prev:%d/%m/%Y}"
    return f"{t:%H:%M} ngày {t:%d/%m/%Y}"
