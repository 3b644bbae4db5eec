"""A nomination dossier (hồ sơ xét chọn): what review hands reporting to render.

Review owns the nominations; it builds this snapshot under the officer's tenant, with the
trade-secret rule and the masking already applied (a phone appears masked, an ID number not at
all), so the snapshot, reporting's job row and the Celery message carry no personal data in
clear. Reporting renders the Tờ trình and the Bảng tổng hợp tóm tắt sáng kiến from it, to PDF
and DOCX, and derives the object's key from its content (``content_hash``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from enum import StrEnum

import orjson
from pydantic import BaseModel, ConfigDict, Field

DOSSIER_VERSION = 1
RENDER_TASK = "reporting.render_dossier"  # Celery task name: takes a job id


class DossierRow(BaseModel):
    """One initiative of the summary table (its 7 columns: TT is the row's position)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tracking_code: str
    full_name: str
    birth_year: int | None = None
    position: str | None = None  # chức vụ
    workplace: str | None = None  # đơn vị công tác
    phone_masked: str | None = None  # e.g. "*******678": never the number in clear
    title: str  # tên sáng kiến
    applied_from: str | None = None  # thời gian áp dụng, as the submitter wrote it
    summary: str | None = None  # tóm tắt nội dung (None for a trade secret)
    benefit: str | None = None  # hiệu quả, giá trị làm lợi, phạm vi ứng dụng
    awards: str | None = None  # danh hiệu thi đua, khen thưởng trong 3 năm
    trade_secret: bool = False  # only name, effect and award are shown


class Dossier(BaseModel):
    """The Tờ trình of a unit's standing committee and its summary table, for one round."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = DOSSIER_VERSION
    tenant_id: int
    campaign_code: str
    campaign_name: str  # "75 nghìn sáng kiến, vượt khó, phát triển"
    round_code: str
    round_name: str  # "Đợt 1 – Tháng Công nhân năm 2021"
    unit_code: str
    unit_name: str  # the issuing body: "Liên đoàn Lao động huyện Hà Quảng"
    superior_name: str | None  # the body above it: "Liên đoàn Lao động tỉnh Cao Bằng"
    recipient_name: str  # to whom it is addressed: "Ban Thường vụ Liên đoàn Lao động tỉnh Cao Bằng"
    number_symbol: str  # "Số: …/TTr-LĐLĐ" (the number left for the clerk unless configured)
    place: str  # "Hà Quảng"
    issued_on: dt.date  # the document's date, in Asia/Ho_Chi_Minh
    signer_title: str = "CHỦ TỊCH"  # under "TM. BAN THƯỜNG VỤ"
    signer_name: str | None = None
    recipients: list[str] = Field(default_factory=list)  # Nơi nhận, besides "Lưu: VT"
    award_years: str = "2018–2020"  # the header of the last column: "trong 3 năm (2018–2020)"
    rows: list[DossierRow]

    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON: the same data always gives the same object key, a
        changed nomination list a new one."""
        return hashlib.sha256(orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)).hexdigest()


# reporting's API (the caller signs a shared.servicetoken for audience "reporting"):
#   POST /api/v1/dossiers          DossierJobsIn  → 202 DossierJobsOut (one job per dossier; the same
#                                   data asked again answers the job it already has)
#   GET  /api/v1/dossiers/{job_id}  → DossierJobOut (404 for another tenant's job)
#   GET  /api/v1/dossiers?campaign=…&round=…  → DossierJobsOut (the tenant's jobs, newest first)
REPORTING_AUDIENCE = "reporting"
MAX_DOSSIERS_PER_REQUEST = 500


class JobState(StrEnum):
    queued = "queued"
    rendering = "rendering"
    done = "done"
    failed = "failed"


JOB_STATE_LABELS = {
    JobState.queued: "Đang chờ tạo hồ sơ",
    JobState.rendering: "Đang tạo hồ sơ",
    JobState.done: "Đã tạo xong hồ sơ",
    JobState.failed: "Không tạo được hồ sơ",
}


class DossierJobsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dossiers: list[Dossier] = Field(min_length=1, max_length=MAX_DOSSIERS_PER_REQUEST)


class DossierJobOut(BaseModel):
    id: str
    state: JobState
    state_label: str
    unit_code: str
    unit_name: str
    round_code: str
    rows: int
    content_hash: str
    created_at: dt.datetime  # Asia/Ho_Chi_Minh
    finished_at: dt.datetime | None = None
    pdf_url: str | None = None  # presigned, expiring; only when done
    docx_url: str | None = None
    error: str | None = None  # Vietnamese, for the officer
    # The initiatives in it: review records, when an officer downloads it, whose data it showed.
    tracking_codes: list[str] = Field(default_factory=list)


class DossierJobsOut(BaseModel):
    jobs: list[DossierJobOut]
