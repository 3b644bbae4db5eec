"""When reminders are due, in Asia/Ho_Chi_Minh, as the clock moves (pure)."""

from __future__ import annotations

import datetime as dt

from services.notify.schedule import DEFAULT_OFFSETS, current_offset, due_day, escalation_due, send_at
from shared.timeutil import VN_TZ, end_of_day

DUE = end_of_day(dt.date(2021, 4, 16))  # 24:00 ngày 16/4/2021 = 17/4 00:00 in Vietnam
MORNING = dt.time(7, 0)


def vn(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=VN_TZ)


def test_the_day_of_a_midnight_deadline_is_the_day_before_midnight() -> None:
    assert due_day(DUE) == dt.date(2021, 4, 16)
    assert due_day(vn(2021, 4, 16, 17, 30)) == dt.date(2021, 4, 16)


def test_offsets_fall_at_seven_in_the_morning_in_vietnam() -> None:
    assert send_at(DUE, "7d", MORNING) == vn(2021, 4, 9, 7)
    assert send_at(DUE, "0d", MORNING) == vn(2021, 4, 16, 7)
    # 07:00 in Hà Nội is 00:00 UTC: the server's own zone does not matter.
    assert send_at(DUE, "3d", MORNING).astimezone(dt.UTC) == dt.datetime(2021, 4, 13, 0, 0, tzinfo=dt.UTC)


def test_the_offset_as_the_clock_moves() -> None:
    seen = []
    t = vn(2021, 4, 1)
    while t < vn(2021, 4, 18):
        seen.append((t, current_offset(DUE, t, DEFAULT_OFFSETS, MORNING)))
        t += dt.timedelta(hours=1)
    first = {o: min(at for at, got in seen if got == o) for o in DEFAULT_OFFSETS}
    assert first == {
        "7d": vn(2021, 4, 9, 7),
        "3d": vn(2021, 4, 13, 7),
        "1d": vn(2021, 4, 15, 7),
        "0d": vn(2021, 4, 16, 7),
    }
    assert current_offset(DUE, vn(2021, 4, 9, 6, 59), DEFAULT_OFFSETS, MORNING) is None
    assert current_offset(DUE, vn(2021, 4, 16, 23, 59), DEFAULT_OFFSETS, MORNING) == "0d"
    assert current_offset(DUE, DUE, DEFAULT_OFFSETS, MORNING) is None  # midnight: too late
    # A planner down from the 8th to the 14th sends the 3-day one only, not 7 and 3 at once.
    assert current_offset(DUE, vn(2021, 4, 14, 9), DEFAULT_OFFSETS, MORNING) == "3d"


def test_escalation_only_in_the_days_after() -> None:
    window = dt.timedelta(days=3)
    assert not escalation_due(DUE, vn(2021, 4, 16, 23, 59), window)
    assert escalation_due(DUE, DUE, window)
    assert escalation_due(DUE, vn(2021, 4, 19, 23), window)
    assert not escalation_due(DUE, vn(2021, 4, 20, 0), window)
