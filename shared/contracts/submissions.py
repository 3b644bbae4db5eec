"""The ``submissions`` stream: what intake appends and review's ingester commits.

Personal data never crosses in clear: intake seals the ID number and the phone (AES-GCM with the
platform's key ring, plus a keyed hash) before the entry leaves the process, so neither the
stream, its dead letters nor an operator's ``XRANGE`` shows them.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

SUBMISSIONS_STREAM = "submissions"
DEAD_LETTER_STREAM = "submissions:dead"
INGESTER_GROUP = "review-ingester"
MESSAGE_FIELD = b"m"  # the stream entry's one field: the JSON of SubmissionMessage
MESSAGE_VERSION = 1

# The tracking code: "<tenant id>-XXXX-XXXX" in Crockford's base32 (no I, L, O, U), so it
# reads aloud over the phone without "is that O or zero?". The tenant prefix lets the review
# find the row under row-level security without scanning every province.
TRACKING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_tracking_code(tenant_id: int) -> str:
    raw = int.from_bytes(secrets.token_bytes(5))  # 40 bits: 8 characters of base32
    chars = "".join(TRACKING_ALPHABET[(raw >> (5 * i)) & 31] for i in range(8))
    return f"{tenant_id}-{chars[:4]}-{chars[4:]}"


_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def normalize_tracking_code(raw: str) -> str | None:
    """What a person types or reads back ("38 k7m4 q2xp", "38-K7M4-Q2XP") to the canonical
    form, or None when it cannot be a tracking code."""
    s = "".join(ch for ch in (raw or "").upper() if ch.isalnum() and ch.isascii())
    digits = len(s) - 8
    if digits < 1 or digits > 3 or not s[:digits].isdigit():
        return None
    body = s[digits:].translate(_CONFUSABLE)
    if any(ch not in TRACKING_ALPHABET for ch in body):
        return None
    return f"{int(s[:digits])}-{body[:4]}-{body[4:]}"


_CANONICAL = re.compile(r"(0|[1-9][0-9]{0,2})-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


def canonical_tenant_id(tracking_code: str) -> int | None:
    """The tenant a code names when it is already in canonical form (what intake issues), else
    None: one regular expression, for the ingester's every message."""
    m = _CANONICAL.fullmatch(tracking_code)
    return int(m[1]) if m else None


def tenant_id_of(tracking_code: str) -> int:
    return int(tracking_code.split("-", 1)[0])


def status_key(tracking_code: str) -> str:
    """Redis hash intake writes at acceptance and review updates as the submission moves."""
    return f"sub:{tracking_code}"


class Group(StrEnum):
    doanh_nghiep = "doanh_nghiep"
    khoi_co_quan = "khoi_co_quan"


GROUP_LABELS: dict[str, str] = {
    "doanh_nghiep": "Doanh nghiệp",
    "khoi_co_quan": "Khối cơ quan",
}

# Lĩnh vực of the circulars; "khac" because every field of social life is accepted.
FIELD_LABELS: dict[str, str] = {
    "san_xuat": "Sản xuất có giá trị làm lợi cao",
    "san_pham_moi": "Tạo ra sản phẩm mới",
    "an_toan_moi_truong": "An toàn vệ sinh lao động, bảo vệ môi trường",
    "cai_cach_hanh_chinh": "Cải cách hành chính, xây dựng Đảng và hệ thống chính trị, quản lý, điều hành",
    "cong_dong": "Vì cộng đồng (y tế, giáo dục)",
    "khac": "Khác",
}


class SubmissionStatus(StrEnum):
    queued = "queued"  # accepted by intake, in the stream
    received = "received"  # committed by review under its tenant
    # The review workflow (services/review/workflow): what a unit did with it last.
    dang_tham_dinh = "dang_tham_dinh"  # appraisers are scoring it
    hop_le = "hop_le"  # the unit found the dossier valid
    khong_hop_le = "khong_hop_le"  # a condition of validity fails (named on the officer's screen)
    tam_dung = "tam_dung"  # a complaint or an authorship dispute is open: selection is frozen
    de_cu = "de_cu"  # recommended up to the next level (the tracking detail names the unit)
    bieu_duong = "bieu_duong"  # commended by a unit (the tracking detail names it)
    de_cu_toan_quoc = "de_cu_toan_quoc"  # the province proposed it to the Tổng Liên đoàn
    tld_bieu_duong = "tld_bieu_duong"  # the Tổng Liên đoàn commended it


STATUS_LABELS: dict[str, str] = {
    "queued": "Đã tiếp nhận, đang chuyển đến đơn vị",
    "received": "Đơn vị đã nhận sáng kiến",
    "dang_tham_dinh": "Đang được thẩm định",
    "hop_le": "Hồ sơ hợp lệ, chờ xét chọn",
    "khong_hop_le": "Hồ sơ chưa hợp lệ",
    "tam_dung": "Tạm dừng xét chọn để giải quyết khiếu nại",
    "de_cu": "Đã được giới thiệu lên công đoàn cấp trên",
    "bieu_duong": "Được biểu dương",
    "de_cu_toan_quoc": "Đã được đề nghị Tổng Liên đoàn Lao động Việt Nam biểu dương",
    "tld_bieu_duong": "Được Tổng Liên đoàn Lao động Việt Nam biểu dương",
}


class SealedField(BaseModel):
    """An encrypted personal value: ciphertext (key id inside) and its keyed hash."""

    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    ct: bytes
    h: bytes


class SubmissionMessage(BaseModel):
    """One accepted submission, already validated and normalised by intake."""

    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    v: int = MESSAGE_VERSION
    submission_id: str = Field(min_length=32, max_length=32)  # uuid4 hex, unique forever
    tracking_code: str = Field(min_length=6, max_length=20)
    campaign: str
    tenant_id: int
    tenant: str
    subunit: str
    full_name: str
    id_number: SealedField
    phone: SealedField
    group: Group
    field: str
    title: str
    description: str
    birth_year: int | None = None
    position: str | None = None
    workplace: str | None = None
    email: str | None = None
    applied_from: str | None = None
    benefit: str | None = None
    awards: str | None = None
    submitted_at: dt.datetime


class TrackingStep(BaseModel):
    """One step of an initiative's way through the review, as the submitter reads it."""

    at: dt.datetime
    status: str
    label: str


class TrackingAnswer(BaseModel):
    """What the submitter sees of a submission (“theo dõi kết quả”): intake answers with it, and
    review answers intake with it once the Redis record is gone."""

    tracking_code: str
    status: str
    status_label: str
    unit: str | None = None
    unit_name: str | None = None
    subunit: str | None = None
    subunit_name: str | None = None
    title: str | None = None
    submitted_at: dt.datetime | None = None
    # Added with the review workflow (optional: older answers stay valid). ``status_detail`` says
    # in plain words where the initiative is ("Đang được xem xét tại Công đoàn cơ sở …");
    # ``history`` is every step so far, oldest first.
    status_detail: str | None = None
    history: list[TrackingStep] = Field(default_factory=list)
