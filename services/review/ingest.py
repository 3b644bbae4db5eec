"""The ingester's rules: read a batch of stream entries, commit what is valid in one
transaction, say what happened to each entry. No Redis here (ingester.py) and no SQL
(ingest_repository.py); the caller commits and acknowledges."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from pydantic import ValidationError

from services.review import ingest_repository as repo
from shared.contracts.submissions import MESSAGE_FIELD, SubmissionMessage, normalize_tracking_code, tenant_id_of


@dataclass(frozen=True)
class Entry:
    stream_id: str
    raw: bytes  # the message as it came (re-queued as is on replay)
    message: SubmissionMessage


@dataclass
class Outcome:
    inserted: list[str] = field(default_factory=list)  # tracking codes new in the database
    duplicates: list[str] = field(default_factory=list)  # already committed (a redelivery)
    rejected: list[tuple[str, bytes, str]] = field(default_factory=list)  # (stream id, raw, reason)

    @property
    def done(self) -> list[str]:
        return self.inserted + self.duplicates


def parse(entries: Sequence[tuple[Any, dict[Any, Any]]]) -> tuple[list[Entry], list[tuple[str, bytes, str]]]:
    """Stream entries to messages; what cannot be read is poison, with the reason."""
    ok: list[Entry] = []
    poison: list[tuple[str, bytes, str]] = []
    for sid, fields in entries:
        stream_id = sid.decode() if isinstance(sid, bytes) else str(sid)
        raw = fields.get(MESSAGE_FIELD) or fields.get(MESSAGE_FIELD.decode()) or b""
        raw = raw.encode() if isinstance(raw, str) else bytes(raw)
        try:
            message = SubmissionMessage.model_validate_json(raw)
        except ValidationError as exc:
            # Field names and error kinds only: pydantic's messages may quote the input.
            where = ", ".join(".".join(str(p) for p in e["loc"]) + f" ({e['type']})" for e in exc.errors()[:5])
            poison.append((stream_id, raw, f"Không đọc được nội dung tin: {where or 'không phải JSON'}"))
            continue
        code = normalize_tracking_code(message.tracking_code)
        if code != message.tracking_code or tenant_id_of(code) != message.tenant_id:
            # The code names the tenant the look-up will search: a row under another tenant
            # could never be found by its submitter.
            poison.append((stream_id, raw, f"Mã theo dõi {message.tracking_code} không thuộc đơn vị {message.tenant}"))
            continue
        ok.append(Entry(stream_id, raw, message))
    return ok, poison


def row(e: Entry) -> tuple[Any, ...]:
    m = e.message
    return (
        m.tenant_id,
        m.tracking_code,
        m.submission_id,
        m.campaign,
        m.subunit,
        m.full_name,
        m.id_number.ct,
        m.id_number.h,
        m.phone.ct,
        m.phone.h,
        m.group.value,
        m.field,
        m.title,
        m.description,
        m.birth_year,
        m.position,
        m.workplace,
        m.email,
        m.applied_from,
        m.benefit,
        m.awards,
        m.submitted_at,
        e.stream_id,
    )


def commit_batch(conn: psycopg.Connection[Any], entries: list[Entry]) -> Outcome:
    """Write the batch in one transaction (committed here: this is the ingester's boundary).
    psycopg.OperationalError propagates (the caller retries the same batch); any other
    database error is isolated entry by entry so one bad entry cannot block the rest."""
    if not entries:
        return Outcome()
    try:
        out = _write(conn, entries)
        conn.commit()
        return out
    except psycopg.OperationalError:
        _rollback(conn)
        raise
    except psycopg.Error:
        _rollback(conn)
    out = Outcome()
    for e in entries:
        try:
            one = _write(conn, [e])
            conn.commit()
        except psycopg.OperationalError:
            _rollback(conn)
            raise
        except psycopg.Error as exc:
            _rollback(conn)
            state = exc.sqlstate or "?"
            out.rejected.append((e.stream_id, e.raw, f"Cơ sở dữ liệu từ chối bản ghi (mã lỗi {state})"))
            continue
        out.inserted += one.inserted
        out.duplicates += one.duplicates
        out.rejected += one.rejected
    return out


def _rollback(conn: psycopg.Connection[Any]) -> None:
    with contextlib.suppress(psycopg.Error):
        conn.rollback()


def _write(conn: psycopg.Connection[Any], entries: list[Entry]) -> Outcome:
    by_tenant: dict[int, list[Entry]] = defaultdict(list)
    for e in entries:
        by_tenant[e.message.tenant_id].append(e)
    repo.stage(conn, (row(e) for e in entries))
    inserted = repo.move(conn, by_tenant)
    out = Outcome()
    for tenant, group in by_tenant.items():
        got = inserted.get(tenant, set())
        rest = []
        for e in group:
            code = e.message.tracking_code
            if code in got:
                out.inserted.append(code)
                got = got - {code}  # the same entry twice in one batch: the second is a duplicate
            else:
                rest.append(e)
        if not rest:
            continue
        known = repo.existing(conn, tenant, [e.message.tracking_code for e in rest])
        for e in rest:
            m = e.message
            sid = known.get(m.tracking_code)
            if sid == m.submission_id:
                out.duplicates.append(m.tracking_code)
            elif sid is not None:
                out.rejected.append(
                    (e.stream_id, e.raw, f"Mã theo dõi {m.tracking_code} đã thuộc về một sáng kiến khác")
                )
            else:
                out.rejected.append(
                    (
                        e.stream_id,
                        e.raw,
                        f"Không tìm thấy đơn vị trực thuộc “{m.subunit}” của đơn vị “{m.tenant}” "
                        f"trong cây tổ chức của đợt “{m.campaign}”",
                    )
                )
    return out
