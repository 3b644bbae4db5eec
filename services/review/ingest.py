"""The ingester's rules: read a batch of stream entries, commit what is valid in one
transaction, say what happened to each entry. No Redis here (ingester.py) and no SQL
(ingest_repository.py); the caller commits and acknowledges.

The batch goes into ``review.submissions`` by one COPY, units and campaign resolved here from a
cache of the org tree; a batch that COPY refuses (a redelivery already committed, a unit the
cache has wrong) is written again by the careful path: ``INSERT … ON CONFLICT DO NOTHING``, then
entry by entry, so one bad entry cannot block the others.
"""

from __future__ import annotations

import binascii
import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg
from pydantic import ValidationError

from services.review import ingest_repository as repo
from shared.contracts.submissions import (
    MESSAGE_FIELD,
    Group,
    SubmissionMessage,
    SubmissionStatus,
    canonical_tenant_id,
)

_GROUPS = frozenset(g.value for g in Group)
_TEXT = ("campaign", "tenant", "subunit", "full_name", "field", "title", "description")
_OPTIONAL_TEXT = ("position", "workplace", "email", "applied_from", "benefit", "awards")
RECEIVED = SubmissionStatus.received.value


@dataclass(frozen=True)
class Message:
    """What the ingester needs of a SubmissionMessage, read without building the model."""

    tenant_id: int
    tracking_code: str
    submission_id: str
    campaign: str
    tenant: str
    subunit: str
    # The columns of review.submissions from full_name to awards, in repo.COLUMNS order.
    values: tuple[Any, ...]
    submitted_at: dt.datetime


@dataclass(frozen=True)
class Entry:
    stream_id: str
    raw: bytes  # the message as it came (re-queued as is on replay)
    message: Message


@dataclass
class Outcome:
    inserted: list[str] = field(default_factory=list)  # tracking codes new in the database
    duplicates: list[str] = field(default_factory=list)  # already committed (a redelivery)
    rejected: list[tuple[str, bytes, str]] = field(default_factory=list)  # (stream id, raw, reason)

    @property
    def done(self) -> list[str]:
        return self.inserted + self.duplicates

    def absorb(self, other: Outcome) -> None:
        self.inserted += other.inserted
        self.duplicates += other.duplicates
        self.rejected += other.rejected


_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _b64(text: str) -> bytes:
    # urlsafe_b64decode's checks and copies, without them: a third of a row's parsing.
    return binascii.a2b_base64(text.encode().translate(_URLSAFE), strict_mode=True)


def _sealed(value: Any) -> tuple[bytes, bytes]:
    if type(value) is not dict:
        raise ValueError
    ct, h = value.get("ct"), value.get("h")
    if type(ct) is not str or type(h) is not str:
        raise ValueError
    return _b64(ct), _b64(h)


def read_message(raw: bytes) -> Message:
    """The contract is SubmissionMessage. This reads the exact shape intake writes (about a
    fifth of the model's cost, which is most of a row's CPU here) and raises on anything else;
    the caller then asks the model itself, which accepts what it may coerce and names what is
    wrong. Everything accepted here the model accepts too (tests/review/test_ingest.py)."""
    d = orjson.loads(raw)
    if type(d) is not dict:
        raise ValueError
    tenant_id, code, sid, group = d["tenant_id"], d["tracking_code"], d["submission_id"], d["group"]
    if type(tenant_id) is not int or type(code) is not str or type(sid) is not str or group not in _GROUPS:
        raise ValueError
    if len(sid) != 32 or not 6 <= len(code) <= 20 or d.get("v", 1) != 1:
        raise ValueError
    campaign, tenant, subunit, full_name, field_, title, description = (d[k] for k in _TEXT)
    for v in (campaign, tenant, subunit, full_name, field_, title, description):
        if type(v) is not str:
            raise ValueError
    optional = [d.get(k) for k in _OPTIONAL_TEXT]
    for v in optional:
        if v is not None and type(v) is not str:
            raise ValueError
    birth_year = d.get("birth_year")
    if birth_year is not None and type(birth_year) is not int:
        raise ValueError
    submitted_at = dt.datetime.fromisoformat(d["submitted_at"])
    if submitted_at.tzinfo is None:
        raise ValueError  # the model would accept a naive time; PostgreSQL would guess its zone
    id_ct, id_h = _sealed(d["id_number"])
    phone_ct, phone_h = _sealed(d["phone"])
    values = (
        full_name, id_ct, id_h, phone_ct, phone_h, group, field_, title, description,
        birth_year, *optional,
    )  # fmt: skip
    return Message(tenant_id, code, sid, campaign, tenant, subunit, values, submitted_at)


def _from_model(m: SubmissionMessage) -> Message:
    values = (
        m.full_name, m.id_number.ct, m.id_number.h, m.phone.ct, m.phone.h, m.group.value, m.field, m.title,
        m.description, m.birth_year, m.position, m.workplace, m.email, m.applied_from, m.benefit, m.awards,
    )  # fmt: skip
    return Message(
        m.tenant_id, m.tracking_code, m.submission_id, m.campaign, m.tenant, m.subunit, values, m.submitted_at
    )


def read_entry(sid: Any, fields: dict[Any, Any]) -> Entry | tuple[str, bytes, str]:
    """One stream entry to its message, or the poison tuple (stream id, raw, reason)."""
    stream_id = sid.decode() if isinstance(sid, bytes) else str(sid)
    raw = fields.get(MESSAGE_FIELD) or fields.get(MESSAGE_FIELD.decode()) or b""
    raw = raw.encode() if isinstance(raw, str) else bytes(raw)
    try:
        message = read_message(raw)
    except (ValueError, KeyError, TypeError, binascii.Error):
        try:
            message = _from_model(SubmissionMessage.model_validate_json(raw))
        except ValidationError as exc:
            # Field names and error kinds only: pydantic's messages may quote the input.
            where = ", ".join(".".join(str(p) for p in e["loc"]) + f" ({e['type']})" for e in exc.errors()[:5])
            return (stream_id, raw, f"Không đọc được nội dung tin: {where or 'không phải JSON'}")
    if canonical_tenant_id(message.tracking_code) != message.tenant_id:
        # The code names the tenant the look-up will search: a row under another tenant
        # could never be found by its submitter.
        return (stream_id, raw, f"Mã theo dõi {message.tracking_code} không thuộc đơn vị {message.tenant}")
    return Entry(stream_id, raw, message)


def parse(entries: Sequence[tuple[Any, dict[Any, Any]]]) -> tuple[list[Entry], list[tuple[str, bytes, str]]]:
    """Stream entries to messages; what cannot be read is poison, with the reason."""
    ok: list[Entry] = []
    poison: list[tuple[str, bytes, str]] = []
    for sid, fields in entries:
        item = read_entry(sid, fields)
        if isinstance(item, Entry):
            ok.append(item)
        else:
            poison.append(item)
    return ok, poison


class Resolver:
    """Campaign codes and (tenant, unit code) to ids, from the org tree, cached: the tree changes
    rarely (a load, a demo seed, an administrator adding a unit before replaying its dead
    letters). A miss reloads the tree, at most once per batch, so a batch of strays costs one
    reload and a fix is seen by the next batch."""

    def __init__(self) -> None:
        self._campaigns: dict[str, tuple[int, int]] = {}
        self._units: dict[tuple[int, int, str], int] = {}
        self._fresh = False  # reloaded during the current batch

    def new_batch(self) -> None:
        self._fresh = False

    def forget(self) -> None:
        """The database refused an id from the cache (a unit removed and loaded again)."""
        self._campaigns, self._units = {}, {}
        self._fresh = False

    def cached(self, m: Message) -> tuple[int, int] | None:
        campaign = self._campaigns.get(m.campaign)
        unit = self._units.get((m.tenant_id, campaign[1], m.subunit)) if campaign else None
        return (campaign[0], unit) if campaign and unit else None

    def resolve(self, conn: psycopg.Connection[Any], m: Message) -> tuple[int, int] | None:
        """(campaign id, unit id), or None when the campaign or the unit is not in the tree."""
        while True:
            ids = self.cached(m)
            if ids is not None:
                return ids
            if self._fresh:
                return None
            self._campaigns, self._units = repo.org_tree(conn)
            self._fresh = True


def _row(m: Message, ids: tuple[int, int], stream_id: str) -> tuple[Any, ...]:
    return (
        m.tenant_id,
        m.tracking_code,
        m.submission_id,
        ids[0],
        ids[1],
        *m.values,
        RECEIVED,
        m.submitted_at,
        stream_id,
    )


def _unknown_unit(e: Entry) -> tuple[str, bytes, str]:
    m = e.message
    return (
        e.stream_id,
        e.raw,
        f"Không tìm thấy đơn vị trực thuộc “{m.subunit}” của đơn vị “{m.tenant}” "
        f"trong cây tổ chức của đợt “{m.campaign}”",
    )


def _place(
    conn: psycopg.Connection[Any], entries: list[Entry], resolver: Resolver, out: Outcome
) -> tuple[list[Entry], list[tuple[Any, ...]]]:
    """The entries whose unit is known and their rows; the others rejected into ``out``."""
    rows: list[tuple[Any, ...]] = []
    placed: list[Entry] = []
    for e in entries:
        ids = resolver.resolve(conn, e.message)
        if ids is None:
            out.rejected.append(_unknown_unit(e))
            continue
        rows.append(_row(e.message, ids, e.stream_id))
        placed.append(e)
    return placed, rows


def commit_batch(conn: psycopg.Connection[Any], entries: list[Entry], resolver: Resolver) -> Outcome:
    """Write the batch in one transaction (committed here: this is the ingester's boundary) and
    say what became of each entry. psycopg.OperationalError propagates (the caller retries the
    same batch); any other database error sends the batch down the careful path, where one bad
    entry cannot block the rest."""
    out = Outcome()
    if not entries:
        return out
    resolver.new_batch()
    copied: list[Entry] = []
    later: list[Entry] = []  # a unit not in the cache: resolved after the COPY (no query inside it)

    def rows() -> Iterator[tuple[Any, ...]]:
        for e in entries:
            ids = resolver.cached(e.message)
            if ids is None:
                later.append(e)
                continue
            copied.append(e)
            yield _row(e.message, ids, e.stream_id)

    try:
        repo.copy(conn, rows())
        conn.commit()
        out.inserted += [e.message.tracking_code for e in copied]
    except psycopg.OperationalError:
        _rollback(conn)
        raise
    except psycopg.Error as exc:
        # A redelivery (the unique key) or a row the database refuses: the careful path.
        _rollback(conn)
        if isinstance(exc, psycopg.errors.ForeignKeyViolation):
            resolver.forget()  # an id from the cache the database no longer has
        later = copied + later
    if later:
        _commit_carefully(conn, later, resolver, out)
    return out


def _commit_carefully(conn: psycopg.Connection[Any], entries: list[Entry], resolver: Resolver, out: Outcome) -> None:
    """INSERT … ON CONFLICT DO NOTHING for all, in one transaction; failing that, entry by entry,
    an entry the database still refuses rejected with the error's code."""
    placed, rows = _place(conn, entries, resolver, out)
    if not rows:
        return
    try:
        out.absorb(_careful_transaction(conn, placed, rows))
        return
    except psycopg.OperationalError:
        raise
    except psycopg.Error:
        pass
    for e, row in zip(placed, rows, strict=True):
        try:
            out.absorb(_careful_transaction(conn, [e], [row]))
        except psycopg.OperationalError:
            raise
        except psycopg.Error as exc:
            out.rejected.append((e.stream_id, e.raw, f"Cơ sở dữ liệu từ chối bản ghi (mã lỗi {exc.sqlstate or '?'})"))


def _careful_transaction(conn: psycopg.Connection[Any], entries: list[Entry], rows: list[tuple[Any, ...]]) -> Outcome:
    """_careful in a transaction of its own: committed, or rolled back and the error raised."""
    out = Outcome()
    try:
        _careful(conn, entries, rows, out)
        conn.commit()
    except psycopg.Error:
        _rollback(conn)
        raise
    return out


def _rollback(conn: psycopg.Connection[Any]) -> None:
    with contextlib.suppress(psycopg.Error):
        conn.rollback()


def _careful(conn: psycopg.Connection[Any], entries: list[Entry], rows: list[tuple[Any, ...]], out: Outcome) -> None:
    """INSERT … ON CONFLICT DO NOTHING; what was not inserted is a redelivery (same submission
    id) or a tracking code already taken by another submission (never overwritten)."""
    inserted = repo.insert_new(conn, rows)
    rest: list[Entry] = []
    for e in entries:
        key = (e.message.tenant_id, e.message.tracking_code)
        if key in inserted:
            out.inserted.append(e.message.tracking_code)
            inserted.discard(key)  # the same entry twice in one batch: the second is a duplicate
        else:
            rest.append(e)
    if not rest:
        return
    known = repo.existing(conn, [(e.message.tenant_id, e.message.tracking_code) for e in rest])
    for e in rest:
        m = e.message
        if known.get((m.tenant_id, m.tracking_code)) == m.submission_id:
            out.duplicates.append(m.tracking_code)
        else:
            out.rejected.append((e.stream_id, e.raw, f"Mã theo dõi {m.tracking_code} đã thuộc về một sáng kiến khác"))
