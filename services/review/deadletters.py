"""Dead letters of the ``submissions`` stream: entries the ingester could not commit, with
the reason, kept for an administrator who can replay them once the cause is fixed (a unit
added to the tree, say). Nothing in them is personal data in clear: intake sealed it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import redis

from services.review.config import ReviewSettings
from shared.contracts.submissions import DEAD_LETTER_STREAM, MESSAGE_FIELD
from shared.errors import NotFound
from shared.timeutil import local, now


@dataclass(frozen=True)
class DeadLetter:
    id: str
    source_id: str
    reason: str
    failed_at: dt.datetime | None
    tracking_code: str | None
    tenant: str | None
    subunit: str | None


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def park(
    client: redis.Redis,
    settings: ReviewSettings,
    rejected: Sequence[tuple[str, bytes, str]],
    *,
    ack_ids: Sequence[Any],
) -> None:
    """Dead letters written and the source entries acknowledged and deleted atomically."""
    if not rejected and not ack_ids:
        return
    pipe = client.pipeline(transaction=True)
    at = now().isoformat()
    for sid, raw, reason in rejected:
        pipe.xadd(
            DEAD_LETTER_STREAM,
            {
                MESSAGE_FIELD: raw,
                b"reason": reason,
                b"source_id": sid,
                b"source_stream": settings.submissions_stream,
                b"failed_at": at,
            },
        )
    if ack_ids:
        pipe.xack(settings.submissions_stream, settings.ingester_group, *ack_ids)
        pipe.xdel(settings.submissions_stream, *ack_ids)
    pipe.execute()


def _letter(sid: Any, fields: dict[Any, Any]) -> DeadLetter:
    f = {_s(k): v for k, v in fields.items()}
    try:
        m = orjson.loads(f.get(MESSAGE_FIELD.decode(), b"") or b"{}")
    except orjson.JSONDecodeError:
        m = {}
    m = m if isinstance(m, dict) else {}
    failed = f.get("failed_at")
    return DeadLetter(
        id=_s(sid),
        source_id=_s(f.get("source_id", "")),
        reason=_s(f.get("reason", "")),
        failed_at=local(dt.datetime.fromisoformat(_s(failed))) if failed else None,
        tracking_code=str(m["tracking_code"]) if "tracking_code" in m else None,
        tenant=str(m["tenant"]) if "tenant" in m else None,
        subunit=str(m["subunit"]) if "subunit" in m else None,
    )


def list_letters(client: redis.Redis, *, count: int = 100) -> list[DeadLetter]:
    rows: Any = client.xrevrange(DEAD_LETTER_STREAM, count=count)
    return [_letter(sid, fields) for sid, fields in rows]


def count_letters(client: redis.Redis) -> int:
    return int(client.xlen(DEAD_LETTER_STREAM))


def replay(client: redis.Redis, settings: ReviewSettings, letter_id: str) -> str:
    """Put the original message back on the stream (the ingester takes it again) and remove the
    dead letter, atomically. Returns the new stream id."""
    if not re.fullmatch(r"[0-9]{1,20}-[0-9]{1,20}", letter_id):  # "5" would match 5-1 but delete 5-0
        raise NotFound("Không tìm thấy tin lỗi này")
    found: Any = client.xrange(DEAD_LETTER_STREAM, min=letter_id, max=letter_id)
    if not found:
        raise NotFound("Không tìm thấy tin lỗi này")
    _, fields = found[0]
    raw = fields.get(MESSAGE_FIELD) or b""
    # Back to the stream it came from (a test or a second campaign may run its own stream).
    source = _s(fields.get(b"source_stream") or settings.submissions_stream)
    pipe = client.pipeline(transaction=True)
    pipe.xadd(source, {MESSAGE_FIELD: raw, b"replay_of": letter_id})
    pipe.xdel(DEAD_LETTER_STREAM, letter_id)
    new_id, _ = pipe.execute()
    return _s(new_id)
