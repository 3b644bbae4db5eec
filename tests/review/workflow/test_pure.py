"""Pure rules, no database: ranking and its tie breaks, the link's signature, dates as typed."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.review.workflow.ranking import TIE_BREAKS, Crit, Sheet, appraiser_mean, rank
from services.review.workflow.tokens import BadToken, Claims, issue, read
from services.review.workflow.validity import parse_applied

RUBRIC = [Crit("tinh_moi", Decimal(25), 1), Crit("hieu_qua", Decimal(35), 2), Crit("pham_vi", Decimal(20), 3)]
T0 = dt.datetime(2021, 3, 10, tzinfo=dt.UTC)


def sheet(i: int, code: str, *appraisers: dict[str, int], at: dt.datetime = T0) -> Sheet:
    return Sheet(i, code, at, {n: {k: Decimal(v) for k, v in a.items()} for n, a in enumerate(appraisers)})


def test_weighted_mean_and_incomplete_sheets() -> None:
    assert appraiser_mean({"tinh_moi": Decimal(10), "hieu_qua": Decimal(0), "pham_vi": Decimal(5)}, RUBRIC) == Decimal(
        "4.375"
    )
    assert appraiser_mean({"tinh_moi": Decimal(10)}, RUBRIC) is None


def test_tie_breaks_in_order() -> None:
    full = {"tinh_moi": 8, "hieu_qua": 8, "pham_vi": 8}
    heavier = {"tinh_moi": 7, "hieu_qua": 9, "pham_vi": 7}  # 7×25 + 9×35 + 7×20 = 630: less than 640
    same_mean_more_effect = {"tinh_moi": 6, "hieu_qua": 10, "pham_vi": 7}  # 640 too, and 10 on the heaviest
    out = rank(
        [
            sheet(1, "38-AAAA-0002", full),
            sheet(2, "38-AAAA-0001", full),
            sheet(3, "38-AAAA-0003", full, at=T0 - dt.timedelta(days=1)),
            sheet(4, "38-AAAA-0004", heavier),
            sheet(5, "38-AAAA-0005", same_mean_more_effect),
            sheet(6, "38-AAAA-0006", {"tinh_moi": 10}),  # incomplete: unranked
        ],
        RUBRIC,
    )
    assert [(r.submission_id, r.rank, r.tie_break) for r in out] == [
        (5, 1, None),
        (3, 2, TIE_BREAKS[1]),
        (2, 3, TIE_BREAKS[2]),
        (1, 4, TIE_BREAKS[3]),
        (4, 5, None),
        (6, None, None),
    ]


@given(st.lists(st.tuples(st.integers(0, 10), st.integers(0, 10), st.integers(0, 10)), min_size=1, max_size=12))
def test_ranks_are_a_permutation_and_means_never_increase(rows: list[tuple[int, int, int]]) -> None:
    sheets = [
        sheet(i, f"38-X-{i:04d}", {"tinh_moi": a, "hieu_qua": b, "pham_vi": c}) for i, (a, b, c) in enumerate(rows)
    ]
    out = rank(sheets, RUBRIC)
    assert [r.rank for r in out] == list(range(1, len(rows) + 1))
    means = [r.mean for r in out]
    assert all(x is not None and y is not None and x >= y for x, y in itertools.pairwise(means))


def test_tokens_round_trip_and_refuse_changes() -> None:
    key = b"k" * 32
    claims = Claims(38, 12, dt.datetime(2021, 4, 1, tzinfo=dt.UTC))
    token = issue(key, claims)
    assert read(key, token) == claims
    for bad in (token + "x", token.replace("38.", "4.", 1), "", "1.2.3", "a.b.c.d"):
        with pytest.raises(BadToken):
            read(key, bad)


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("15/03/2021", dt.date(2021, 3, 15)),
        ("2021-03-15", dt.date(2021, 3, 15)),
        ("03/2021", dt.date(2021, 3, 1)),
        ("tháng 3/2021", dt.date(2021, 3, 1)),
        ("2021-04", dt.date(2021, 4, 1)),
        ("31/02/2021", None),
        ("đầu năm", None),
        (None, None),
    ],
)
def test_applied_dates_as_people_type_them(typed: str | None, day: dt.date | None) -> None:
    assert parse_applied(typed) == day
