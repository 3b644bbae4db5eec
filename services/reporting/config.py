from __future__ import annotations

from pydantic import Field

from shared.config import CommonSettings


class ReportingSettings(CommonSettings):
    service_name: str = "reporting"
    # A render takes seconds (a 1,000-row dossier 9–12 s, bench/render.py): a task unacknowledged
    # after ten minutes belongs to a dead worker. A live one that runs longer meets its second copy
    # at the job's row lock (service.begin_render, render_claimed), which looks again later.
    task_visibility_timeout: int = 600
    # Download links the console hands out: presigned, so the browser fetches the object from
    # storage itself; short, since a link forwarded by mistake should soon be worth nothing.
    presign_ttl_seconds: int = Field(900, ge=60, le=7 * 24 * 3600)
    # Where browsers reach object storage, when not where the workers do (an ingress in front
    # of MinIO): "https://s3.sangkien.congdoan.vn". Unset: the workers' endpoint.
    s3_public_url: str | None = None
    # Object storage or PostgreSQL away: retries with exponential backoff (capped) for about
    # ten minutes before the job is marked failed, so an outage of a minute costs nothing.
    render_max_retries: int = Field(20, ge=0)
    render_backoff_max_seconds: int = Field(30, ge=1)
    # Request bodies past this are refused (413) before they are read (shared/bodylimit.py). A
    # dossier of 1,000 rows with 1,000 characters of Vietnamese in each is ~2.5 MB of JSON.
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024 * 1024)
