"""The hash chain of the audit log, as pure functions (no database).

Each row's hash is ``sha256(prev_hash || canonical JSON of the row)``; the first row of a tenant
chains from 32 zero bytes. The canonical JSON has sorted keys, no spaces, UTF-8 text and the
instant in UTC with microseconds, so that anyone can recompute it from an export.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = bytes(32)

# The fields that are hashed, in the export's column order.
FIELDS = (
    "tenant_id",
    "seq",
    "at",
    "actor_id",
    "actor",
    "action",
    "entity",
    "entity_id",
    "before",
    "after",
    "reason",
)


def canonical_instant(at: dt.datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("naive datetime in the audit log")
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Entry:
    """One row of the log as it is hashed."""

    tenant_id: int
    seq: int
    at: dt.datetime
    actor_id: int | None
    actor: str
    action: str
    entity: str
    entity_id: str
    before: Any
    after: Any
    reason: str | None

    def canonical(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "seq": self.seq,
            "at": canonical_instant(self.at),
            "actor_id": self.actor_id,
            "actor": self.actor,
            "action": self.action,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
        }


def row_hash(prev_hash: bytes, entry: Entry) -> bytes:
    return hashlib.sha256(prev_hash + canonical_json(entry.canonical())).digest()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rows: int
    first_bad_seq: int | None = None
    problem: str | None = None


def verify(rows: Iterable[tuple[Entry, bytes, bytes]]) -> Verdict:
    """Rows as (entry, stored prev_hash, stored hash), in seq order from 1. The first break
    (a gap, a wrong link, a hash that does not match the content) is reported by its seq."""
    prev = GENESIS
    n = 0
    for entry, stored_prev, stored in rows:
        n += 1
        if entry.seq != n:
            return Verdict(False, n - 1, entry.seq, f"thiếu bản ghi số {n}")
        if bytes(stored_prev) != prev:
            return Verdict(False, n - 1, entry.seq, f"bản ghi số {entry.seq} không nối với bản ghi trước")
        if row_hash(prev, entry) != bytes(stored):
            return Verdict(False, n - 1, entry.seq, f"nội dung bản ghi số {entry.seq} đã bị thay đổi")
        prev = bytes(stored)
    return Verdict(True, n)


def snapshot_hash(items: Iterable[Mapping[str, Any]]) -> str:
    """The hash of a frozen set of records (a round's scores): sha256 of their canonical JSON
    list, hex."""
    return hashlib.sha256(canonical_json(list(items))).hexdigest()
