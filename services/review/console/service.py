"""The console's queue and detail: the rules. No FastAPI here; functions only flush, the request
session commits.

Reach: an officer sees the submissions at their unit and every unit below it, in their tenant
(row-level security). A tracking code, unit or campaign outside that answers 404 — the same as
one that does not exist. Personal data: the list never decrypts; the detail decrypts the ID
number and phone only to mask them to their last three digits.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy.orm import Session

from services.review.accounts import repository as accounts_repo
from services.review.accounts.principal import Officer
from services.review.accounts.service import units_in_reach
from services.review.console import repository as repo
from services.review.console import selection_repository as sel_repo
from services.review.console.history import HistoryEntry, history
from services.review.console.text import NEAR_DUPLICATE, signature
from services.review.models import UNIT_KIND_LABELS, Campaign, Submission, Unit
from services.review.workflow.access import record_act
from shared.contracts.submissions import (
    FIELD_LABELS,
    GROUP_LABELS,
    STATUS_LABELS,
    normalize_tracking_code,
    tenant_id_of,
)
from shared.errors import NotFound
from shared.pii import ID_NUMBER, PHONE, PiiCipher, mask
from shared.timeutil import local

PAGE_SIZE = 25
# A fallback on page loads, kept small so a page never waits on thousands of MinHashes; the
# backfill is `sangkien review fingerprints` (console/fingerprints.py).
SIGN_BATCH = 200
SOURCE_LABELS = {"portal": "Cổng trực tuyến", "paper": "Nhập từ giấy (Excel)", "demo": "Dữ liệu mẫu"}
NOT_FOUND = "Không tìm thấy sáng kiến"
UNIT_NOT_FOUND = "Không tìm thấy đơn vị"
CAMPAIGN_NOT_FOUND = "Không tìm thấy chương trình"
ROUND_NOT_FOUND = "Không tìm thấy đợt xét chọn"
DELETED = "(đã xoá khi hết thời hạn lưu trữ)"
PAGE_VIEW = "xem_trang_sang_kien"  # audited with the submission as its subject (who saw whom)


@dataclass(frozen=True)
class QueueFilters:
    search: str = ""
    field: str = ""
    group: str = ""
    status: str = ""
    unit_id: int | None = None
    campaign: str = ""
    source: str = ""
    round_id: int | None = None
    page: int = 1


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class QueueRow:
    tracking_code: str
    full_name: str
    title: str
    field_label: str
    group_label: str
    status: str
    status_label: str
    unit_name: str
    submitted_at: str
    source: str
    source_label: str
    same_person: int  # other initiatives of the same person in the campaign (tenant-wide)
    near_text: int  # other initiatives with nearly the same description (tenant-wide)


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    pages: int
    filters: QueueFilters
    units: list[Option]
    campaigns: list[Option]
    rounds: list[Option] = field(default_factory=list)
    fields: list[Option] = field(default_factory=lambda: _options(FIELD_LABELS))
    groups: list[Option] = field(default_factory=lambda: _options(GROUP_LABELS))
    statuses: list[Option] = field(default_factory=lambda: _options(STATUS_LABELS))
    sources: list[Option] = field(default_factory=lambda: _options(SOURCE_LABELS))


@dataclass(frozen=True)
class Related:
    tracking_code: str | None  # None: outside the officer's reach (counted, not shown)
    unit_name: str | None
    score: float | None = None


@dataclass(frozen=True)
class Detail:
    tracking_code: str
    status: str
    status_label: str
    full_name: str
    id_number_masked: str
    phone_masked: str
    birth_year: int | None
    position: str | None
    workplace: str | None
    email: str | None
    unit_name: str
    unit_kind_label: str
    campaign_name: str
    group_label: str
    field_label: str
    title: str
    description: str
    applied_from: str | None
    benefit: str | None
    awards: str | None
    source_label: str
    submitted_at: str
    received_at: str
    same_person: list[Related]
    near_text: list[Related]
    history: list[HistoryEntry] = field(default_factory=list)
    # A trade secret seen from outside its own unit: only its name, effect and awards show.
    masked: bool = False


def _options(labels: dict[str, str]) -> list[Option]:
    return [Option(k, v) for k, v in labels.items()]


def _when(instant: dt.datetime) -> str:
    return f"{local(instant):%H:%M %d/%m/%Y}"


# --- signatures -------------------------------------------------------------------------------


def signature_values(tenant_id: int, submission_id: int, description: str) -> dict[str, Any]:
    """The text_signatures row of a description (empty arrays: too short to compare)."""
    sig = signature(description)
    return {
        "tenant_id": tenant_id,
        "submission_id": submission_id,
        "minhash": sig.minhash if sig else [],
        "bands": sig.bands if sig else [],
    }


def refresh_signatures(session: Session, tenant_id: int, *, limit: int = SIGN_BATCH) -> int:
    """Sign the tenant's descriptions that have no signature yet (rows the ingester COPYs come
    without one), at most ``limit`` per call. Returns how many were signed."""
    pending = repo.unsigned(session, tenant_id, limit=limit)
    rows = [signature_values(tenant_id, sub_id, description) for sub_id, description in pending]
    repo.add_signatures(session, rows)
    return len(rows)


# --- queue ------------------------------------------------------------------------------------


def _reach_for(session: Session, officer: Officer, unit_id: int | None) -> frozenset[int]:
    reach = units_in_reach(session, officer)
    if unit_id is None:
        return reach
    if unit_id not in reach:
        raise NotFound(UNIT_NOT_FOUND, field="unit_id")
    return frozenset(accounts_repo.subtree_unit_ids(session, officer.tenant_id, unit_id))


def _campaign(session: Session, code: str) -> Campaign | None:
    if not code:
        return None
    c = repo.campaign_by_code(session, code)
    if c is None:
        raise NotFound(CAMPAIGN_NOT_FOUND, field="campaign")
    return c


def _unit_options(session: Session, officer: Officer, reach: Collection[int]) -> list[Option]:
    units = sorted(repo.units(session, officer.tenant_id, reach), key=lambda u: (u.id != officer.unit_id, u.name))
    return [Option(str(u.id), u.name) for u in units]


def round_options(session: Session, tenant_id: int) -> list[Option]:
    """Every round of the tenant's configured campaigns; the campaign is named when there are
    several (the demo campaign repeats the real one's rounds)."""
    rows = sel_repo.tenant_rounds(session, tenant_id)
    several = len({code for _, code, _ in rows}) > 1
    return [Option(str(r.id), f"{r.name} — {name}" if several else r.name) for r, _, name in rows]


def queue(session: Session, officer: Officer, filters: QueueFilters) -> QueuePage:
    reach = units_in_reach(session, officer)
    scope = _reach_for(session, officer, filters.unit_id)
    campaign = _campaign(session, filters.campaign)
    if filters.round_id is not None and sel_repo.round_by_id(session, officer.tenant_id, filters.round_id) is None:
        raise NotFound(ROUND_NOT_FOUND, field="round")
    refresh_signatures(session, officer.tenant_id)
    q = repo.QueueQuery(
        unit_ids=scope,
        search=" ".join(filters.search.split())[:100] or None,
        field=filters.field or None,
        group=filters.group or None,
        status=filters.status or None,
        campaign_id=campaign.id if campaign else None,
        source=filters.source or None,
        round_id=filters.round_id,
    )
    total = repo.queue_count(session, officer.tenant_id, q)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, filters.page), pages)
    found = repo.queue_page(session, officer.tenant_id, q, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    ids = [r.id for r in found]
    person: dict[int, int] = defaultdict(int)
    for r in repo.same_person(session, officer.tenant_id, ids):
        person[r.id] += 1
    near: dict[int, int] = defaultdict(int)
    for r in repo.near_duplicates(session, officer.tenant_id, ids, NEAR_DUPLICATE):
        near[r.id] += 1
    rows = [
        QueueRow(
            tracking_code=r.tracking_code,
            full_name=r.full_name,
            title=r.title,
            field_label=FIELD_LABELS.get(r.field, r.field),
            group_label=GROUP_LABELS.get(r.idea_group, r.idea_group),
            status=r.status,
            status_label=STATUS_LABELS.get(r.status, r.status),
            unit_name=r.unit_name,
            submitted_at=_when(r.submitted_at),
            source=r.source,
            source_label=SOURCE_LABELS.get(r.source, r.source),
            same_person=person[r.id],
            near_text=near[r.id],
        )
        for r in found
    ]
    campaigns = [Option(c.code, c.name) for c in repo.campaigns(session)]
    return QueuePage(
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        units=_unit_options(session, officer, reach),
        campaigns=campaigns,
        rounds=round_options(session, officer.tenant_id),
    )


@dataclass(frozen=True)
class ImportOptions:
    units: list[Option]
    campaigns: list[Option]


def import_options(session: Session, officer: Officer) -> ImportOptions:
    """Where a paper import may land (the officer's reach) and in which campaign."""
    reach = units_in_reach(session, officer)
    return ImportOptions(
        units=_unit_options(session, officer, reach),
        campaigns=[Option(c.code, c.name) for c in repo.campaigns(session)],
    )


# --- detail -----------------------------------------------------------------------------------


def submission_in_reach(session: Session, officer: Officer, raw_code: str) -> Submission:
    code = normalize_tracking_code(raw_code)
    if code is None or tenant_id_of(code) != officer.tenant_id:
        raise NotFound(NOT_FOUND, field="tracking_code")
    sub = repo.submission_by_code(session, officer.tenant_id, code)
    if sub is None:
        raise NotFound(NOT_FOUND, field="tracking_code")
    # In reach: where it landed, or (once the workflow has a case) the unit holding it or its own.
    reach = units_in_reach(session, officer)
    case = sel_repo.case_of(session, officer.tenant_id, sub.id)
    units = {sub.unit_id} if case is None else {sub.unit_id, case.holder_unit_id, case.own_unit_id}
    if not units & reach:
        raise NotFound(NOT_FOUND, field="tracking_code")
    return sub


def _masked(cipher: PiiCipher, blob: bytes | None, kind: str) -> str:
    if blob is None:
        return DELETED
    try:
        return mask(cipher.open(blob, kind=kind))
    except (ValueError, KeyError, InvalidTag):  # a retired key or a damaged value: say so, never guess
        return "(không đọc được)"


def _related(
    session: Session, officer: Officer, rows: Sequence[tuple[str, int, float | None]], reach: frozenset[int]
) -> list[Related]:
    names = {u.id: u.name for u in repo.units(session, officer.tenant_id, {unit for _, unit, _ in rows})}
    seen = [Related(code, names.get(unit), score) for code, unit, score in rows if unit in reach]
    hidden = [Related(None, None, score) for _, unit, score in rows if unit not in reach]
    return seen + hidden


def detail(session: Session, officer: Officer, raw_code: str, cipher: PiiCipher) -> Detail:
    sub = submission_in_reach(session, officer, raw_code)
    reach = units_in_reach(session, officer)
    refresh_signatures(session, officer.tenant_id)
    unit = accounts_repo.unit_by_id(session, officer.tenant_id, sub.unit_id)
    campaign = repo.campaign_by_id(session, sub.campaign_id)
    person = [(r.tracking_code, r.unit_id, None) for r in repo.same_person(session, officer.tenant_id, [sub.id])]
    near = [
        (r.tracking_code, r.unit_id, float(r.score))
        for r in repo.near_duplicates(session, officer.tenant_id, [sub.id], NEAR_DUPLICATE)
    ]
    case = sel_repo.case_of(session, officer.tenant_id, sub.id)
    if case is not None and case.trade_secret and officer.unit_id != case.own_unit_id:
        return _masked_detail(sub, campaign, unit, history(session, sub))
    # The page shows the author's name, birth year, workplace and masked numbers: a sighting.
    record_act(session, officer, action=PAGE_VIEW, entity="submission_page", entity_id=sub.id, subjects=[sub.id])
    return Detail(
        tracking_code=sub.tracking_code,
        status=sub.status,
        status_label=STATUS_LABELS.get(sub.status, sub.status),
        full_name=sub.full_name or DELETED,
        id_number_masked=_masked(cipher, sub.id_number_enc, ID_NUMBER),
        phone_masked=_masked(cipher, sub.phone_enc, PHONE),
        birth_year=sub.birth_year,
        position=sub.position,
        workplace=sub.workplace,
        email=sub.email,
        unit_name=unit.name if unit else "",
        unit_kind_label=UNIT_KIND_LABELS.get(unit.kind, unit.kind) if unit else "",
        campaign_name=campaign.name if campaign else "",
        group_label=GROUP_LABELS.get(sub.idea_group, sub.idea_group),
        field_label=FIELD_LABELS.get(sub.field, sub.field),
        title=sub.title,
        description=sub.description,
        applied_from=sub.applied_from,
        benefit=sub.benefit,
        awards=sub.awards,
        source_label=SOURCE_LABELS.get(sub.source, sub.source),
        submitted_at=_when(sub.submitted_at),
        received_at=_when(sub.received_at),
        same_person=_related(session, officer, person, reach),
        near_text=_related(session, officer, near, reach),
        history=history(session, sub),
    )


def _masked_detail(sub: Submission, campaign: Campaign | None, unit: Unit | None, steps: list[HistoryEntry]) -> Detail:
    hidden = "(bí mật kinh doanh)"
    return Detail(
        tracking_code=sub.tracking_code,
        status=sub.status,
        status_label=STATUS_LABELS.get(sub.status, sub.status),
        full_name=hidden,
        id_number_masked=hidden,
        phone_masked=hidden,
        birth_year=None,
        position=None,
        workplace=None,
        email=None,
        unit_name=unit.name if unit else "",
        unit_kind_label=UNIT_KIND_LABELS.get(unit.kind, unit.kind) if unit else "",
        campaign_name=campaign.name if campaign else "",
        group_label="—",
        field_label="—",
        title=sub.title,
        description="",
        applied_from=None,
        benefit=sub.benefit,
        awards=sub.awards,
        source_label=SOURCE_LABELS.get(sub.source, sub.source),
        submitted_at=_when(sub.submitted_at),
        received_at=_when(sub.received_at),
        same_person=[],
        near_text=[],
        history=steps,
        masked=True,
    )
