"""Writing, verifying and exporting the audit log. Every change of state, score, quota override
and unmasking of personal data goes through :func:`record`, in the same transaction as the
change it describes (so a rolled-back change leaves no trace, and a committed one always does)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from services.review.audit import repository as repo
from services.review.audit.chain import FIELDS, GENESIS, Entry, Verdict, row_hash, verify
from services.review.audit.models import AuditRow
from shared.timeutil import now


@dataclass(frozen=True)
class Actor:
    """Who did it: an officer (id and a readable label) or the system."""

    id: int | None
    label: str


SYSTEM = Actor(None, "hệ thống")


def record(
    session: Session,
    tenant_id: int,
    actor: Actor,
    *,
    action: str,
    entity: str,
    entity_id: str | int,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
    subjects: Collection[int] = (),
) -> AuditRow:
    """``subjects``: the submissions whose personal data the act showed (a page, an unmasking,
    an export, a dossier), indexed beside the entry so that "who saw this person's data" is
    answered by key (audit_subjects)."""
    repo.lock_chain(session, tenant_id)
    last = repo.head(session, tenant_id)
    seq, prev = (1, GENESIS) if last is None else (last[0] + 1, last[1])
    entry = Entry(
        tenant_id=tenant_id,
        seq=seq,
        at=now(),
        actor_id=actor.id,
        actor=actor.label,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=_plain(before),
        after=_plain(after),
        reason=reason,
    )
    row = AuditRow(
        tenant_id=tenant_id,
        seq=seq,
        at=entry.at,
        actor_id=entry.actor_id,
        actor=entry.actor,
        action=entry.action,
        entity=entry.entity,
        entity_id=entry.entity_id,
        before=entry.before,
        after=entry.after,
        reason=reason,
        prev_hash=prev,
        hash=row_hash(prev, entry),
    )
    repo.insert(session, row)
    repo.add_subjects(session, tenant_id, seq, subjects)
    return row


def _plain(value: Any) -> Any:
    """JSON values only (what jsonb gives back unchanged): no floats, no dates."""
    return None if value is None else json.loads(json.dumps(value, default=str))


def entry_of(row: AuditRow) -> Entry:
    return Entry(
        tenant_id=row.tenant_id,
        seq=row.seq,
        at=row.at,
        actor_id=row.actor_id,
        actor=row.actor,
        action=row.action,
        entity=row.entity,
        entity_id=row.entity_id,
        before=row.before,
        after=row.after,
        reason=row.reason,
    )


def verify_chain(session: Session, tenant_id: int) -> Verdict:
    return verify((entry_of(r), r.prev_hash, r.hash) for r in repo.rows(session, tenant_id))


def _export_dict(row: AuditRow) -> dict[str, Any]:
    d = entry_of(row).canonical()
    d["prev_hash"] = bytes(row.prev_hash).hex()
    d["hash"] = bytes(row.hash).hex()
    return d


def export_jsonl(session: Session, tenant_id: int) -> Iterator[str]:
    """One canonical JSON object per line, with prev_hash and hash in hex: anyone can verify
    the chain from the file alone."""
    for row in repo.rows(session, tenant_id):
        yield json.dumps(_export_dict(row), sort_keys=True, ensure_ascii=False) + "\n"


def export_csv(session: Session, tenant_id: int) -> Iterator[str]:
    columns = [*FIELDS, "prev_hash", "hash"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    for row in repo.rows(session, tenant_id):
        d = _export_dict(row)
        for k in ("before", "after"):
            d[k] = json.dumps(d[k], sort_keys=True, ensure_ascii=False)
        writer.writerow(d)
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    if buf.getvalue():
        yield buf.getvalue()


def history(session: Session, tenant_id: int, entity: str, entity_id: str | int) -> list[AuditRow]:
    return repo.for_entity(session, tenant_id, entity, str(entity_id))
