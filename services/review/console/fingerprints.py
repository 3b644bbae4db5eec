"""Backfilling the similarity fingerprints (review.text_signatures, MinHash of each
description; console/text.py) that the ingester's COPY path leaves out.

``sangkien review fingerprints`` signs every tenant's unsigned descriptions in committed batches
(one transaction per tenant and batch, so a long backfill holds no lock for long and resumes
where it stopped). The review service has no periodic scheduler of its own, and the ingester's
loop is intake's hot path, so this is run by hand, from cron, or after a large import. The
console still signs a small batch on page loads as a fallback (console.service.SIGN_BATCH), so
a fresh row is compared soon even if nobody ran the command."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.review import repository as review_repo
from services.review.console.service import refresh_signatures
from shared.db import TenantScope

BATCH = 2000


@dataclass
class BackfillReport:
    signed: dict[str, int] = field(default_factory=dict)  # tenant code → rows signed

    @property
    def total(self) -> int:
        return sum(self.signed.values())


def backfill(scope: TenantScope, *, batch: int = BATCH, tenant_codes: list[str] | None = None) -> BackfillReport:
    with scope(None) as s:
        tenants = {code: t.id for code, t in review_repo.tenants_by_code(s).items()}
    report = BackfillReport()
    for code, tenant_id in sorted(tenants.items()):
        if tenant_codes and code not in tenant_codes:
            continue
        done = 0
        while True:
            with scope(tenant_id) as s:
                n = refresh_signatures(s, tenant_id, limit=batch)
            done += n
            if n < batch:
                break
        if done:
            report.signed[code] = done
    return report
