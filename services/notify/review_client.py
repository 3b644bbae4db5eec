"""Notify's client of review: the tenants (the directory review publishes to Redis) and, per
tenant, what each unit owes by each deadline (review's internal API, with a token notify signs
for that tenant as the platform's service role)."""

from __future__ import annotations

import datetime as dt

import httpx
import redis

from shared.contracts.directory import DIRECTORY_KEY, DirectorySnapshot
from shared.contracts.obligations import REVIEW_AUDIENCE, SYSTEM_ROLE, ObligationsOut
from shared.servicetoken import issue


def tenant_ids(client: redis.Redis) -> list[int]:
    """Every tenant of every tree the open and past campaigns pin, once."""
    raw = client.get(DIRECTORY_KEY)
    if not raw:
        return []
    snap = DirectorySnapshot.model_validate_json(raw)
    return sorted({t.id for tenants in snap.trees.values() for t in tenants})


class ReviewClient:
    def __init__(self, base_url: str, key: bytes, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.timeout = timeout

    def obligations(self, tenant_id: int, due_from: dt.datetime, due_to: dt.datetime) -> ObligationsOut:
        token = issue(self.key, tenant_id=tenant_id, officer_id=0, unit_code="", role=SYSTEM_ROLE, aud=REVIEW_AUDIENCE)
        r = httpx.get(
            f"{self.base_url}/api/v1/internal/obligations",
            params={"due_from": due_from.isoformat(), "due_to": due_to.isoformat()},
            headers={"authorization": f"Bearer {token}"},
            timeout=self.timeout,
        )
        r.raise_for_status()
        return ObligationsOut.model_validate_json(r.content)
