"""What Redis still holds about a campaign's submissions once their personal data is deleted:
intake's tracking records (``sub:<code>``, with the keyed hash of the phone, kept 180 days) and
dead letters of the submissions stream (sealed, but with the author's name in clear)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
import redis

from shared.contracts.submissions import DEAD_LETTER_STREAM, MESSAGE_FIELD, status_key

BATCH = 1000


def forget_tracking(client: redis.Redis, codes: Iterable[str]) -> int:
    """Delete the tracking records; the look-up then asks review, which no longer finds the
    phone (its hash is gone) and answers the same 404 as for a wrong one."""
    deleted = 0
    batch: list[str] = []
    for code in codes:
        batch.append(status_key(code))
        if len(batch) == BATCH:
            deleted += int(client.delete(*batch))
            batch.clear()
    if batch:
        deleted += int(client.delete(*batch))
    return deleted


def drop_dead_letters(client: redis.Redis, tenant_id: int, campaign_code: str) -> int:
    """The dead letters of the tenant's campaign (read page by page: the stream is small, an
    administrator's backlog)."""
    dropped = 0
    start = "-"
    while True:
        page: Any = client.xrange(DEAD_LETTER_STREAM, min=start, count=BATCH)
        if not page:
            return dropped
        ids = [sid for sid, fields in page if _of(fields, tenant_id, campaign_code)]
        if ids:
            dropped += int(client.xdel(DEAD_LETTER_STREAM, *ids))
        last = page[-1][0]
        last = last.decode() if isinstance(last, bytes) else str(last)
        start = "(" + last  # exclusive: the page after the last one read
        if len(page) < BATCH:
            return dropped


def _of(fields: dict[Any, Any], tenant_id: int, campaign_code: str) -> bool:
    try:
        m = orjson.loads(fields.get(MESSAGE_FIELD) or b"{}")
    except orjson.JSONDecodeError:
        return False
    return isinstance(m, dict) and m.get("tenant_id") == tenant_id and m.get("campaign") == campaign_code
