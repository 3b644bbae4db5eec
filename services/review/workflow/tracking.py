"""What the submitter's “theo dõi kết quả” shows of the review: the state in plain Vietnamese,
where the initiative is, and every step so far — read from the audit log, which holds every
change of state with its time. The Tổng Liên đoàn's verdict is read from its inbox row (a
province may read the rows it sent)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from services.review.audit import service as audit
from services.review.models import Submission
from services.review.workflow import repository as repo
from shared.contracts.submissions import STATUS_LABELS, SubmissionStatus, TrackingStep, status_key
from shared.logging import get_logger

CHANGED = "workflow_status_changed"  # session.info key: tracking codes whose state changed

TLD_VERDICT = {
    "bieu_duong": (SubmissionStatus.tld_bieu_duong, "Được Tổng Liên đoàn Lao động Việt Nam biểu dương"),
}


@dataclass(frozen=True)
class Progress:
    status: str
    label: str
    detail: str | None
    history: list[TrackingStep]


def progress(session: Session, sub: Submission) -> Progress:
    steps: list[TrackingStep] = []
    detail: str | None = None
    for row in audit.history(session, sub.tenant_id, "submission", sub.id):
        if row.action != "trang_thai" or not isinstance(row.after, dict):
            continue
        status = str(row.after.get("status"))
        detail = row.after.get("detail")
        steps.append(TrackingStep(at=row.at, status=status, label=detail or STATUS_LABELS.get(status, status)))
    status = sub.status
    national = repo.national_row(session, sub.tenant_id, sub.id)
    if national is not None and national.status in TLD_VERDICT and national.decided_at is not None:
        status, label = TLD_VERDICT[national.status]
        steps.append(TrackingStep(at=national.decided_at, status=status, label=label))
        detail = label
    if status == SubmissionStatus.received and not steps:
        detail = None
    return Progress(status, STATUS_LABELS.get(status, status), detail, steps)


def note_change(session: Session, tracking_code: str) -> None:
    session.info.setdefault(CHANGED, set()).add(tracking_code)


def install_tracking_refresh(factory: sessionmaker[Session], client: redis.Redis) -> None:
    """Intake answers a tracking look-up from its Redis record while there is one (180 days) and
    asks review only once it is gone. After a commit that changed initiatives' states, their
    records are deleted, so the submitter's next look-up reads the state here. A Redis failure
    only delays that (the record expires); the commit stands."""
    log = get_logger("review.workflow")

    @event.listens_for(factory, "after_commit")
    def _forget(session: Session) -> None:
        codes = session.info.pop(CHANGED, None)
        if codes:
            try:
                client.delete(*(status_key(c) for c in codes))
            except redis.RedisError as exc:
                log.warning("tracking records not refreshed", error=type(exc).__name__, count=len(codes))

    @event.listens_for(factory, "after_rollback")
    def _drop(session: Session, *_: Any) -> None:
        session.info.pop(CHANGED, None)
