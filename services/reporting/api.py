"""Reporting's HTTP API: dossier jobs. Each handler is the transaction boundary: it opens the
caller's tenant session, lets the service do the work, commits, and only then sends tasks, so a
worker never looks for a job that is not committed yet."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from services.reporting import service
from services.reporting.deps import caller
from shared.apierrors import error_responses
from shared.contracts.dossier import RENDER_TASK, DossierJobOut, DossierJobsIn, DossierJobsOut
from shared.db import tenant_session
from shared.servicetoken import Claims

# A service token for reporting (401); the caller's tenant's jobs only (404 for any other).
router = APIRouter(prefix="/api/v1/dossiers", tags=["hồ sơ xét chọn"], responses=error_responses(401, 404))
Caller = Annotated[Claims, Depends(caller)]


def _links(request: Request) -> service.Links:
    s = request.app.state.settings
    return service.Links(request.app.state.presigner, s.bucket, s.presign_ttl_seconds)


@router.post("", status_code=202, response_model=DossierJobsOut)
def ask_for_dossiers(body: DossierJobsIn, claims: Caller, request: Request) -> DossierJobsOut:
    with tenant_session(request.app.state.sessions, claims.tenant_id) as s:
        jobs, to_send = service.request_dossiers(s, claims, body)
        answer = DossierJobsOut(jobs=[service.describe(j, _links(request)) for j in jobs])
    for job in to_send:  # committed above
        request.app.state.celery.send_task(RENDER_TASK, args=[job.tenant_id, str(job.id)])
    return answer


@router.get("", response_model=DossierJobsOut)
def jobs_of_round(
    claims: Caller,
    request: Request,
    campaign: Annotated[str, Query(max_length=64)],
    round: Annotated[str, Query(max_length=32)],
) -> DossierJobsOut:
    with tenant_session(request.app.state.sessions, claims.tenant_id) as s:
        jobs = service.jobs_of_round(s, claims, campaign, round)
        return DossierJobsOut(jobs=[service.describe(j, _links(request)) for j in jobs])


@router.get("/{job_id}", response_model=DossierJobOut)
def job(job_id: str, claims: Caller, request: Request, response: Response) -> DossierJobOut:
    with tenant_session(request.app.state.sessions, claims.tenant_id) as s:
        found = service.get_job(s, claims, job_id)
        # The console polls this while the worker renders; links inside expire, never cache.
        response.headers["Cache-Control"] = "no-store"
        return service.describe(found, _links(request))
