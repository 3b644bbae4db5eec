"""Complaints, authorship disputes and the trade-secret mark on an initiative's page. Filing is
for every officer who sees the initiative (every campaign lets officers file; the public form is
``POST /api/v1/khieu-nai`` where the campaign opens it); resolving, with its reason, for chủ
tịch and quản trị; while one is open the initiative is paused and cannot be nominated (the
workflow's rule, shown here). Only the initiative's own unit marks it a trade secret. The acts
are the workflow's; this module reads what the page shows and checks that a complaint belongs
to the initiative named in the URL."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from services.review.accounts.principal import Officer
from services.review.console import selection_repository as repo
from services.review.console.selection import when_text
from services.review.console.service import Option
from services.review.workflow import service as wf_service
from services.review.workflow.access import DECIDERS, find_case
from services.review.workflow.models import COMPLAINT_KIND_LABELS
from services.review.workflow.schemas import ComplaintOut
from shared.errors import InvalidInput, NotFound

MAX_BODY = 4000


@dataclass(frozen=True)
class ComplaintRow:
    id: int
    kind_label: str
    filer: str
    filed_at: str
    body: str
    resolved_at: str | None = None
    resolution: str | None = None


@dataclass(frozen=True)
class Disputes:
    open: list[ComplaintRow] = field(default_factory=list)
    resolved: list[ComplaintRow] = field(default_factory=list)
    kinds: list[Option] = field(default_factory=list)
    can_resolve: bool = False
    trade_secret: bool = False
    can_mark_secret: bool = False


def disputes(session: Session, officer: Officer, code: str) -> Disputes:
    sub, case = find_case(session, officer, code)
    rows = [
        ComplaintRow(
            id=c.id,
            kind_label=COMPLAINT_KIND_LABELS.get(c.kind, c.kind),
            filer=c.filer_name,
            filed_at=when_text(c.filed_at),
            body=c.body,
            resolved_at=None if c.resolved_at is None else when_text(c.resolved_at),
            resolution=c.resolution,
        )
        for c in repo.complaints_of(session, officer.tenant_id, sub.id)
    ]
    deciding = officer.role in DECIDERS
    return Disputes(
        open=[r for r in rows if r.resolved_at is None],
        resolved=[r for r in rows if r.resolved_at is not None],
        kinds=[Option(k, v) for k, v in COMPLAINT_KIND_LABELS.items()],
        can_resolve=deciding,
        trade_secret=case.trade_secret,
        can_mark_secret=deciding and officer.unit_id == case.own_unit_id,
    )


def file(session: Session, officer: Officer, code: str, kind: str, body: str) -> ComplaintOut:
    if len(body) > MAX_BODY:
        raise InvalidInput(f"Nội dung khiếu nại dài quá {MAX_BODY} ký tự", field="body")
    return wf_service.file_complaint(session, officer, code, kind=kind, body=body)


def resolve(session: Session, officer: Officer, code: str, complaint_id: int, reason: str) -> ComplaintOut:
    """The complaint must be this initiative's: another's id in this URL is “not found”."""
    sub, _ = find_case(session, officer, code)
    if complaint_id not in {c.id for c in repo.complaints_of(session, officer.tenant_id, sub.id)}:
        raise NotFound("Không tìm thấy khiếu nại", field="complaint")
    return wf_service.resolve_complaint(session, officer, complaint_id, reason)
