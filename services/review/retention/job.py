"""The retention job: every day (`sangkien review retention`: a CronJob in Kubernetes, a loop in
`make run`), for each tenant, each campaign whose retention date has passed in
Asia/Ho_Chi_Minh:

1. the personal data of its submissions in PostgreSQL, in one transaction with its audit record
   (service.delete_personal_data);
2. its files: reporting deletes the dossiers' objects in storage and their snapshots
   (shared/contracts/retention.py), so their presigned links stop working;
3. its records in Redis: the tracking records and the dead letters of the stream;
4. the campaign marked done, with an audit record of what 2 and 3 deleted (counts).

Each step is idempotent, so a run that stops half-way (reporting away, Redis away) is finished
by the next one: a campaign stays due until step 4 committed, and is taken up again only if
something new appears in it (a paper import after the date). Two runs at once delete nothing
twice and record the end once. This module is the transaction boundary (one scope per step)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import redis

from services.review import repository as review_repo
from services.review.retention import redis_records
from services.review.retention import service as retention
from services.review.retention.client import ReportingPurgeClient
from shared.contracts.retention import PurgeOut
from shared.db import TenantScope
from shared.errors import DomainError
from shared.logging import get_logger
from shared.timeutil import local, now

log = get_logger("review.retention")


@dataclass(frozen=True)
class CampaignRun:
    tenant_code: str
    campaign_code: str
    submissions: int = 0
    confirmations: int = 0
    complaints: int = 0
    objects: int = 0
    dossier_jobs: int = 0
    tracking_records: int = 0
    dead_letters: int = 0
    finished: bool = False
    problem: str | None = None  # why it stopped (Vietnamese); the next run takes it up again


@dataclass
class RunReport:
    today: dt.date
    campaigns: list[CampaignRun] = field(default_factory=list)

    @property
    def failed(self) -> list[CampaignRun]:
        return [c for c in self.campaigns if c.problem]


def run(
    scope: TenantScope,
    client: redis.Redis,
    reporting: ReportingPurgeClient,
    *,
    today: dt.date | None = None,
    tenant_codes: list[str] | None = None,
    campaign_codes: list[str] | None = None,
    clock: Callable[[], dt.datetime] = now,
) -> RunReport:
    """``today``: the day in Asia/Ho_Chi_Minh (an operator or a test may say another); the codes
    narrow the run to some tenants or campaigns."""
    report = RunReport(today or local(clock()).date())
    with scope(None) as s:
        tenants = {code: t.id for code, t in review_repo.tenants_by_code(s).items()}
    for code, tenant_id in sorted(tenants.items(), key=lambda kv: kv[1]):
        if tenant_codes and code not in tenant_codes:
            continue
        with scope(tenant_id) as s:
            due = retention.due(s, tenant_id, report.today)
        for campaign in due:
            if campaign_codes and campaign.code not in campaign_codes:
                continue
            done = _campaign(scope, client, reporting, tenant_id, code, campaign, clock)
            if done is not None:
                report.campaigns.append(done)
    return report


def _campaign(
    scope: TenantScope,
    client: redis.Redis,
    reporting: ReportingPurgeClient,
    tenant_id: int,
    tenant_code: str,
    campaign: retention.CampaignRetentionView,
    clock: Callable[[], dt.datetime],
) -> CampaignRun | None:
    """What this run deleted of the campaign, or None when there was nothing to delete."""
    started = clock()
    with scope(tenant_id) as s:
        deleted = retention.delete_personal_data(s, tenant_id, campaign, started)
        codes = retention.tracking_codes(s, tenant_id, campaign)
    if deleted.total == 0 and campaign.purged_at is not None:
        return None  # done before, and nothing new since
    run = CampaignRun(
        tenant_code,
        campaign.code,
        submissions=deleted.submissions,
        confirmations=deleted.confirmations,
        complaints=deleted.complaints,
    )
    try:
        # No submission in the tenant's campaign, no dossier either: reporting is not asked
        # (most tenants, most campaigns). Dead letters are entries that never became rows.
        files = reporting.purge(tenant_id, campaign.code) if codes else PurgeOut(objects_deleted=0, jobs_deleted=0)
        tracked = redis_records.forget_tracking(client, codes)
        dead = redis_records.drop_dead_letters(client, tenant_id, campaign.code)
    except DomainError as exc:
        log.warning("retention_incomplete", tenant=tenant_id, campaign=campaign.code, step="files")
        return replace(run, problem=exc.message)
    except redis.RedisError as exc:
        log.warning("retention_incomplete", tenant=tenant_id, campaign=campaign.code, error=type(exc).__name__)
        return replace(run, problem="Redis không phản hồi; bản ghi theo dõi sẽ được xoá ở lần chạy sau")
    with scope(tenant_id) as s:
        finished = retention.finish(
            s, tenant_id, campaign, files, tracking_records=tracked, dead_letters=dead, at=clock(), started=started
        )
    done = replace(
        run,
        objects=files.objects_deleted,
        dossier_jobs=files.jobs_deleted,
        tracking_records=tracked,
        dead_letters=dead,
        finished=finished,
    )
    if not (deleted.total or files.objects_deleted or files.jobs_deleted or tracked or dead):
        return None
    log.info(
        "retention_done",
        tenant=tenant_id,
        campaign=campaign.code,
        submissions=done.submissions,
        objects=done.objects,
        tracking_records=done.tracking_records,
    )
    return done
