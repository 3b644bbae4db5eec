"""Appraisal arithmetic, pure: each appraiser's weighted mean, the initiative's mean over its
appraisers, and the rank within a unit with explicit tie breaks.

Weighted mean of one appraiser = Σ(score × weight) / Σ(weight), over every criterion of the
rubric (an appraiser who has not scored every criterion does not count yet). The initiative's
mean is the plain mean of its appraisers' weighted means.

Rank (1 = best) orders by, in turn:
  1. the higher mean;
  2. the higher mean score on each criterion, heaviest weight first (equal weights: rubric order);
  3. the earlier submission (submitted_at);
  4. the tracking code, alphabetically — unique, so no two initiatives ever share a rank.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

TIE_BREAKS = (
    "điểm bình quân cao hơn",
    "điểm cao hơn ở tiêu chí có trọng số lớn hơn",
    "gửi sớm hơn",
    "mã theo dõi xếp trước theo thứ tự chữ cái",
)

TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Crit:
    code: str
    weight: Decimal
    ordinal: int


@dataclass(frozen=True)
class Sheet:
    submission_id: int
    tracking_code: str
    submitted_at: dt.datetime
    # appraiser id → criterion code → score
    scores: Mapping[int, Mapping[str, Decimal]]


@dataclass(frozen=True)
class Ranked:
    submission_id: int
    tracking_code: str
    mean: Decimal | None  # None: no appraiser has scored every criterion yet
    appraisers: int  # appraisers with a complete sheet
    rank: int | None
    tie_break: str | None  # the rule that separated it from the one ranked just above


def appraiser_mean(scores: Mapping[str, Decimal], criteria: Sequence[Crit]) -> Decimal | None:
    if not criteria or any(c.code not in scores for c in criteria):
        return None
    total_weight = sum((c.weight for c in criteria), Decimal(0))
    return sum((scores[c.code] * c.weight for c in criteria), Decimal(0)) / total_weight


def complete_appraisers(sheet: Sheet, criteria: Sequence[Crit]) -> dict[int, Decimal]:
    out = {}
    for appraiser, scores in sheet.scores.items():
        m = appraiser_mean(scores, criteria)
        if m is not None:
            out[appraiser] = m
    return out


def mean(sheet: Sheet, criteria: Sequence[Crit]) -> Decimal | None:
    means = complete_appraisers(sheet, criteria)
    if not means:
        return None
    return sum(means.values(), Decimal(0)) / len(means)


def _criterion_mean(sheet: Sheet, code: str, appraisers: Sequence[int]) -> Decimal:
    return sum((sheet.scores[a][code] for a in appraisers), Decimal(0)) / len(appraisers)


def rank(sheets: Sequence[Sheet], criteria: Sequence[Crit]) -> list[Ranked]:
    by_weight = sorted(criteria, key=lambda c: (-c.weight, c.ordinal))
    keyed = []
    unranked = []
    for s in sheets:
        complete = complete_appraisers(s, criteria)
        if not complete:
            unranked.append(Ranked(s.submission_id, s.tracking_code, None, 0, None, None))
            continue
        m = sum(complete.values(), Decimal(0)) / len(complete)
        per_criterion = tuple(_criterion_mean(s, c.code, list(complete)) for c in by_weight)
        key = (-m, tuple(-x for x in per_criterion), s.submitted_at, s.tracking_code)
        keyed.append((key, s, m, len(complete)))
    keyed.sort(key=lambda k: k[0])
    out = []
    for i, (key, s, m, n) in enumerate(keyed):
        tie = None
        if i > 0:
            prev = keyed[i - 1][0]
            for rule, (a, b) in zip(TIE_BREAKS, zip(prev, key, strict=True), strict=True):
                if a != b:
                    tie = None if rule == TIE_BREAKS[0] else rule
                    break
        out.append(Ranked(s.submission_id, s.tracking_code, m.quantize(TWO_PLACES, ROUND_HALF_UP), n, i + 1, tie))
    return out + sorted(unranked, key=lambda r: r.tracking_code)
