"""Dossier jobs: asked for by an officer (through review, with a signed token naming their
tenant), rendered by the worker into PDF and DOCX in object storage, handed out by presigned
links. No FastAPI here and no commit: the API handler and the task wrapper own the transaction.

A job is safe to run twice: the worker locks the job's row for the whole render (a second
delivery of the same task finds it locked and leaves it), writes content-addressed objects (a
retry writes the same keys) and says "done" only after storage has both objects."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from minio import Minio
from sqlalchemy.orm import Session

from services.reporting import repository as repo
from services.reporting import storage
from services.reporting.models import DossierJob
from shared.contracts.dossier import JOB_STATE_LABELS, Dossier, DossierJobOut, DossierJobsIn, JobState
from shared.contracts.retention import PurgeOut
from shared.errors import NotFound, ServiceUnavailable
from shared.servicetoken import Claims
from shared.timeutil import local, now

NOT_FOUND = "Không tìm thấy yêu cầu tạo hồ sơ"
STALE = dt.timedelta(minutes=2)


def _job_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise NotFound(NOT_FOUND) from exc


def request_dossiers(
    session: Session, claims: Claims, body: DossierJobsIn
) -> tuple[list[DossierJob], list[DossierJob]]:
    """One job per dossier; the same data asked again is the job it already has. Returns every
    job and those to send to the worker (new ones, and failed ones asked again)."""
    jobs: list[DossierJob] = []
    to_send: list[DossierJob] = []
    for d in body.dossiers:
        if d.tenant_id != claims.tenant_id:
            # Another province's dossier is not this officer's to ask for: as if it did not exist.
            raise NotFound("Không tìm thấy đơn vị của hồ sơ", field="tenant_id")
        digest = d.content_hash()
        job, new = repo.add_job(
            session,
            {
                "tenant_id": d.tenant_id,
                "content_hash": digest,
                "campaign_code": d.campaign_code,
                "round_code": d.round_code,
                "unit_code": d.unit_code,
                "unit_name": d.unit_name,
                "rows": len(d.rows),
                "payload": d.model_dump(mode="json"),
                "requested_by": claims.officer_id,
            },
        )
        if job.state == JobState.failed:
            repo.set_state(session, job.tenant_id, job.id, state=JobState.queued.value, error=None)
            session.refresh(job)
            to_send.append(job)
        elif new or (job.state == JobState.queued and now() - job.created_at > STALE):
            # Queued long ago and still waiting: its task may have been lost with a broker
            # that restarted empty. Sending it again is safe (the task is idempotent).
            to_send.append(job)
        jobs.append(job)
    session.flush()
    return jobs, to_send


def get_job(session: Session, claims: Claims, job_id: str) -> DossierJob:
    found = repo.job(session, claims.tenant_id, _job_id(job_id))
    if found is None:
        raise NotFound(NOT_FOUND)
    return found


def jobs_of_round(session: Session, claims: Claims, campaign: str, round_code: str) -> Sequence[DossierJob]:
    return repo.jobs_of_round(session, claims.tenant_id, campaign, round_code)


@dataclass(frozen=True)
class Links:
    client: Minio  # signs for the address browsers use
    bucket: str
    ttl_seconds: int


def describe(job: DossierJob, links: Links | None) -> DossierJobOut:
    state = JobState(job.state)
    pdf_url = docx_url = None
    if state == JobState.done and links is not None and job.pdf_key and job.docx_key:
        name = f"Hồ sơ xét chọn - {job.unit_name} - {job.round_code}"
        pdf_url = storage.download_url(links.client, links.bucket, job.pdf_key, f"{name}.pdf", links.ttl_seconds)
        docx_url = storage.download_url(links.client, links.bucket, job.docx_key, f"{name}.docx", links.ttl_seconds)
    return DossierJobOut(
        id=str(job.id),
        state=state,
        state_label=JOB_STATE_LABELS[state],
        unit_code=job.unit_code,
        unit_name=job.unit_name,
        round_code=job.round_code,
        rows=job.rows,
        content_hash=job.content_hash,
        created_at=local(job.created_at),
        finished_at=local(job.finished_at) if job.finished_at else None,
        pdf_url=pdf_url,
        docx_url=docx_url,
        error=job.error,
        tracking_codes=[str(r.get("tracking_code", "")) for r in job.payload.get("rows", [])],
    )


# --- the worker's side -------------------------------------------------------------------


def begin_render(session: Session, tenant_id: int, job_id: str) -> bool:
    """Mark the job as rendering (its own short transaction, so the console sees progress).
    False when there is nothing to do: no such job, or already done.

    The row is taken with SKIP LOCKED, never waited for: while another delivery of the task
    renders the job it holds the row, and an UPDATE here would sit behind that lock for the
    whole render, a worker process idle. Held: True without a mark, and ``render_claimed``
    answers ``busy`` (the task looks again later)."""
    jid = _job_id(job_id)
    found = repo.claim(session, tenant_id, jid)
    if found is None:
        held = repo.job(session, tenant_id, jid)
        return held is not None and held.state != JobState.done
    if found.state == JobState.done:
        return False
    repo.start(session, tenant_id, found.id, now())
    return True


Renderer = Callable[[Dossier], bytes]


@dataclass(frozen=True)
class Renderers:
    pdf: Renderer
    docx: Renderer


def render_claimed(
    session: Session, client: Minio, bucket: str, tenant_id: int, job_id: str, renderers: Renderers
) -> str:
    """Render under the job's row lock and record it done. Returns what happened: ``busy``
    (another worker holds it), ``done-before`` (its objects are there), ``rendered``. Storage
    errors propagate: the task retries; the transaction rolls back, nothing is marked done."""
    job = repo.claim(session, tenant_id, _job_id(job_id))
    if job is None:
        return "busy" if repo.exists(session, tenant_id, _job_id(job_id)) else "gone"
    if (
        job.state == JobState.done
        and job.pdf_key
        and job.docx_key
        and storage.present(client, bucket, job.pdf_key)
        and storage.present(client, bucket, job.docx_key)
    ):
        return "done-before"
    dossier = Dossier.model_validate(job.payload)
    keys = {
        ext: storage.dossier_key(tenant_id, job.campaign_code, job.round_code, job.unit_code, job.content_hash, ext)
        for ext in ("pdf", "docx")
    }
    pdf_bytes = storage.put_verified(client, bucket, keys["pdf"], renderers.pdf(dossier), storage.PDF)
    docx_bytes = storage.put_verified(client, bucket, keys["docx"], renderers.docx(dossier), storage.DOCX)
    repo.set_state(
        session,
        tenant_id,
        job.id,
        state=JobState.done.value,
        pdf_key=keys["pdf"],
        docx_key=keys["docx"],
        pdf_bytes=pdf_bytes,
        docx_bytes=docx_bytes,
        # Under the row lock: a second render of the same job reaching here at the same time
        # is what the lock rules out, and this count is how a test sees that it did.
        renders=DossierJob.renders + 1,
        finished_at=now(),
        error=None,
    )
    session.flush()
    return "rendered"


def fail(session: Session, tenant_id: int, job_id: str, reason: str) -> None:
    """The job given up on, with a reason in Vietnamese for the officer (never an exception's
    text: it may carry a path, an address or a key)."""
    found = repo.job(session, tenant_id, _job_id(job_id))
    if found is not None and found.state != JobState.done:
        repo.set_state(session, tenant_id, found.id, state=JobState.failed.value, error=reason, finished_at=now())


# --- retention --------------------------------------------------------------------------------


def purge_campaign(session: Session, client: Minio, bucket: str, tenant_id: int, campaign: str) -> PurgeOut:
    """Everything reporting keeps of the tenant's campaign: the dossier jobs (their snapshots
    name people) and every object under the campaign's prefix (found by prefix, not by the
    rows, so an object a lost job left behind goes too). Storage away: the error propagates
    and the caller's transaction rolls the rows back; asked again, it finishes."""
    from minio.error import S3Error
    from urllib3.exceptions import HTTPError

    jobs = repo.delete_jobs_of_campaign(session, tenant_id, campaign)
    session.flush()
    try:
        objects = storage.delete_prefix(client, bucket, storage.campaign_prefix(tenant_id, campaign))
    except (S3Error, HTTPError, OSError) as exc:
        raise ServiceUnavailable("Kho lưu trữ tệp tạm thời không phản hồi", retry_after=60) from exc
    return PurgeOut(objects_deleted=objects, jobs_deleted=jobs)
