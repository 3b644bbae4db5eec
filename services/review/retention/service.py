"""How long a tenant keeps its submitters' personal data, campaign by campaign, and what the
retention job deletes once that date has passed. No FastAPI and no commit here: the console
page and the job (job.py) own their transactions.

The date: each campaign has one per tenant, stored as a date and read in Asia/Ho_Chi_Minh — the
data is kept through that day and deleted by the first run after it. By default it is the end of
the campaign's work (the later of the portal's close and the tenant's last deadline of the
campaign) plus 36 months: the circulars ask for each person's emulation titles and awards over
the previous three years (2018–2020 for 2021's dossiers), so a campaign's record of who did what
stays useful for three years' emulation dossiers, and no longer. The tenant's administrator at
its top unit may set another date, never before the campaign's work is over (a round still
being decided needs its authors), and not once the data is gone; the change is audited.

What is deleted (services/review/retention/repository.py): the author's name, ID number and
phone (ciphertexts and keyed hashes), email, birth year, position, workplace and awards, the
import's keyed hash; the employer's confirmer's name and title; a complaint's filer and text.
What stays, for the statistics and the record of the initiative: unit, campaign, field, group,
state, dates, tracking code, title, description, effect, scores, nominations, commendations.
The audit log keeps what the job deleted as counts, never the data.

Left as they are, on purpose: the audit log (append-only; it holds no ID number or phone, but
an employer's confirmer signs it by name) and the Tổng Liên đoàn's copy of a nominated
initiative (its author's name, in the national tenant's own record of what it commended)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.audit import service as audit
from services.review.models import Campaign
from services.review.retention import repository as repo
from services.review.retention.models import CampaignRetention
from services.review.workflow import repository as wf_repo
from services.review.workflow.access import record_act, require_role
from shared.contracts.retention import PurgeOut
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.timeutil import local, now

DEFAULT_MONTHS = 36
SET_ACTION = "sua_thoi_han_luu_tru"
DELETE_ACTION = "xoa_du_lieu_ca_nhan"
FINISH_ACTION = "xoa_tep_va_ban_ghi_theo_doi"
DELETED_FIELDS = [
    "full_name",
    "id_number",
    "phone",
    "email",
    "birth_year",
    "position",
    "workplace",
    "awards",
    "import_key",
    "confirmer",
    "complaint_filer_and_text",
]
NOT_FOUND = "Không tìm thấy chương trình"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later; the month's last day where it is shorter (29/2 → 28/2)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def last_day(instant: dt.datetime) -> dt.date:
    """The day an instant ends, as people there say it: a close at 24:00 on 20/4 (00:00 on
    21/4 in Asia/Ho_Chi_Minh) is 20/4."""
    return local(instant - dt.timedelta(microseconds=1)).date()


@dataclass(frozen=True)
class CampaignRetentionView:
    campaign_id: int
    code: str
    name: str
    work_ends_on: dt.date  # the portal's close or the last deadline, whichever is later
    default_until: dt.date
    retain_until: dt.date  # what applies: the administrator's date, else the default
    is_default: bool
    set_at: dt.datetime | None  # Asia/Ho_Chi_Minh
    purged_at: dt.datetime | None  # Asia/Ho_Chi_Minh: the last run that finished deleting

    def due(self, today: dt.date) -> bool:
        return today > self.retain_until


def _view(
    campaign: Campaign, row: CampaignRetention | None, last_deadline: dt.datetime | None
) -> CampaignRetentionView:
    ends = last_day(campaign.closes_at)
    if last_deadline is not None:
        ends = max(ends, last_day(last_deadline))
    default = add_months(ends, DEFAULT_MONTHS)
    chosen = row.retain_until if row is not None else None
    return CampaignRetentionView(
        campaign_id=campaign.id,
        code=campaign.code,
        name=campaign.name,
        work_ends_on=ends,
        default_until=default,
        retain_until=chosen or default,
        is_default=chosen is None,
        set_at=local(row.set_at) if row is not None and row.set_at else None,
        purged_at=local(row.purged_at) if row is not None and row.purged_at else None,
    )


def views(session: Session, tenant_id: int) -> list[CampaignRetentionView]:
    """Every campaign, with the tenant's retention of it."""
    settings = repo.settings_of(session, tenant_id)
    deadlines = repo.last_deadlines(session, tenant_id)
    return [_view(c, settings.get(c.id), deadlines.get(c.id)) for c in repo.campaigns(session)]


def overview(session: Session, officer: Officer) -> list[CampaignRetentionView]:
    require_role(officer, (Role.quan_tri,))
    return views(session, officer.tenant_id)


def may_edit(session: Session, officer: Officer) -> bool:
    """Only the administrators of the tenant's top unit set a tenant-wide rule."""
    unit = wf_repo.unit(session, officer.tenant_id, officer.unit_id)
    return officer.role == Role.quan_tri and unit is not None and unit.parent_id is None


_DMY = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


def parse_day(raw: str) -> dt.date:
    """As a date field sends it (2027-10-04), or as people write it (04/10/2027)."""
    raw = raw.strip()
    try:
        m = _DMY.match(raw)
        if m:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            "Ngày hết hạn lưu trữ không hợp lệ, cần dạng ngày/tháng/năm, ví dụ 04/10/2027", field="retain_until"
        ) from None


def set_retention(session: Session, officer: Officer, campaign_code: str, raw_day: str) -> CampaignRetentionView:
    require_role(officer, (Role.quan_tri,))
    campaign = repo.campaign_by_code(session, campaign_code)
    if campaign is None:
        raise NotFound(NOT_FOUND, field="campaign")
    if not may_edit(session, officer):
        raise Forbidden("Chỉ quản trị của đơn vị cấp cao nhất mới được sửa thời hạn lưu trữ dữ liệu cá nhân")
    day = parse_day(raw_day)
    row = repo.lock_setting(session, officer.tenant_id, campaign.id)
    current = _view(campaign, row, repo.last_deadlines(session, officer.tenant_id).get(campaign.id))
    if row.purged_at is not None:
        raise Conflict(
            f"Dữ liệu cá nhân của chương trình này đã được xoá lúc {current.purged_at:%H:%M ngày %d/%m/%Y}",
            field="retain_until",
        )
    if day < current.work_ends_on:
        raise InvalidInput(
            f"Ngày hết hạn lưu trữ không được trước ngày kết thúc chương trình ({current.work_ends_on:%d/%m/%Y})",
            field="retain_until",
        )
    if day == current.retain_until and not current.is_default:
        return current
    row.retain_until, row.set_by, row.set_at = day, officer.id, now()
    session.flush()
    record_act(
        session,
        officer,
        action=SET_ACTION,
        entity="campaign",
        entity_id=campaign.code,
        before={"retain_until": current.retain_until.isoformat(), "default": current.is_default},
        after={"retain_until": day.isoformat()},
    )
    return _view(campaign, row, repo.last_deadlines(session, officer.tenant_id).get(campaign.id))


# --- the job's steps (job.py runs them, one transaction each) ----------------------------------


def due(session: Session, tenant_id: int, today: dt.date) -> list[CampaignRetentionView]:
    return [v for v in views(session, tenant_id) if v.due(today)]


@dataclass(frozen=True)
class Deleted:
    submissions: int
    confirmations: int
    complaints: int

    @property
    def total(self) -> int:
        return self.submissions + self.confirmations + self.complaints


def delete_personal_data(session: Session, tenant_id: int, campaign: CampaignRetentionView, at: dt.datetime) -> Deleted:
    """The database's part, audited in the same transaction when it changed anything."""
    done = Deleted(*repo.delete_personal_data(session, tenant_id, campaign.campaign_id, at))
    if done.total:
        audit.record(
            session,
            tenant_id,
            audit.SYSTEM,
            action=DELETE_ACTION,
            entity="campaign",
            entity_id=campaign.code,
            after={
                "retain_until": campaign.retain_until.isoformat(),
                "submissions": done.submissions,
                "confirmations": done.confirmations,
                "complaints": done.complaints,
                "fields": DELETED_FIELDS,
            },
        )
    return done


def tracking_codes(session: Session, tenant_id: int, campaign: CampaignRetentionView) -> list[str]:
    return repo.tracking_codes(session, tenant_id, campaign.campaign_id)


def finish(
    session: Session,
    tenant_id: int,
    campaign: CampaignRetentionView,
    files: PurgeOut,
    *,
    tracking_records: int,
    dead_letters: int,
    at: dt.datetime,
    started: dt.datetime,
) -> bool:
    """The files and Redis records are gone too: the campaign is done until something new
    appears in it; audited when they held anything. False when a run at the same time recorded
    it already."""
    if not repo.mark_purged(session, tenant_id, campaign.campaign_id, at=at, started=started):
        return False
    if not (files.objects_deleted or files.jobs_deleted or tracking_records or dead_letters):
        return True
    audit.record(
        session,
        tenant_id,
        audit.SYSTEM,
        action=FINISH_ACTION,
        entity="campaign",
        entity_id=campaign.code,
        after={
            "objects": files.objects_deleted,
            "dossier_jobs": files.jobs_deleted,
            "tracking_records": tracking_records,
            "dead_letters": dead_letters,
        },
    )
    return True
