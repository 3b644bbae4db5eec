"""Deleting a campaign's files when its personal data reaches the end of its retention.

Review owns the retention dates (services/review/retention) and runs the daily job; the files
are reporting's: every dossier of the tenant's campaign (``<tenant>/ho-so/<campaign>/…`` in
object storage, PDF and DOCX) and the job rows that hold the dossiers' snapshots (names, birth
years, workplaces, masked phones). Once the objects are gone their presigned links stop working.

reporting's API, for a caller holding a shared.servicetoken for audience "reporting" with the
platform's service role (``he_thong``; an officer's token is refused, 401), signed for one tenant:
    POST /api/v1/internal/campaigns/{campaign}/purge  → 200 PurgeOut
Idempotent: asked again, it deletes nothing more and answers zeros.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

PURGE_PATH = "/api/v1/internal/campaigns/{campaign}/purge"


def purge_path(campaign: str) -> str:
    from urllib.parse import quote

    return PURGE_PATH.format(campaign=quote(campaign, safe=""))


class PurgeOut(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    objects_deleted: int  # PDF and DOCX objects removed from storage
    jobs_deleted: int  # dossier jobs (their snapshots) removed from reporting's table
