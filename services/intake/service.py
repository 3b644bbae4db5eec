"""Intake's rules: validate, check the campaign window and the unit, seal the personal data,
queue, answer. No framework here (api.py speaks HTTP) and no SQL (intake has none)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from prometheus_client import Counter

from services.intake.config import IntakeSettings
from services.intake.directory import Directory
from services.intake.repository import AcceptCall, QueueUnavailable, StreamAppender
from services.intake.validation import CleanSubmission, validate
from shared.contracts.directory import CampaignEntry
from shared.contracts.submissions import (
    STATUS_LABELS,
    SealedField,
    SubmissionMessage,
    SubmissionStatus,
    TrackingAnswer,
    new_tracking_code,
    status_key,
)
from shared.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    ValidationFailed,
)
from shared.pii import PiiCipher
from shared.timeutil import format_vn, local, now


@dataclass(frozen=True)
class Accepted:
    tracking_code: str
    status: str
    submitted_at: dt.datetime
    replayed: bool = False


# What tracking answers is the contract review answers with too.
Tracking = TrackingAnswer


# What became of each submission that reached the queue: ok, replay, full, rate_ip, rate_phone,
# idem_conflict, collision, redis_unavailable. An operator on call watches full and unavailable.
OUTCOMES = Counter("intake_submissions_total", "Submissions by outcome at the queue", ["outcome"])


class CampaignClosed(Forbidden):
    code = "ngoai_thoi_gian_tiep_nhan"


def window_error(campaign: CampaignEntry, at: dt.datetime) -> CampaignClosed | None:
    if at < campaign.opens_at:
        return CampaignClosed(
            f"Cổng tiếp nhận sáng kiến chưa mở. Cổng mở từ {format_vn(campaign.opens_at)}.",
            opens_at=local(campaign.opens_at).isoformat(),
        )
    if at >= campaign.closes_at:
        return CampaignClosed(
            f"Cổng tiếp nhận sáng kiến đã đóng lúc {format_vn(campaign.closes_at)}. "
            "Bạn vẫn có thể theo dõi kết quả sáng kiến đã gửi.",
            closes_at=local(campaign.closes_at).isoformat(),
        )
    return None


class IntakeService:
    def __init__(self, settings: IntakeSettings, cipher: PiiCipher, appender: StreamAppender) -> None:
        self.settings = settings
        self.cipher = cipher
        self.appender = appender
        self.directory: Directory | None = None
        self._hash_key = settings.pii_keyring()[2]

    # --- reading the directory ------------------------------------------------------------------

    def campaign(self, at: dt.datetime | None = None) -> CampaignEntry:
        d = self.directory
        c = d.campaign(at or now(), self.settings.intake_campaign) if d else None
        if c is None:
            raise ServiceUnavailable(
                "Cổng tiếp nhận đang khởi động, chưa có thông tin đợt phát động",
                retry_after=self.settings.retry_after_seconds,
            )
        return c

    def require_directory(self) -> Directory:
        if self.directory is None:
            self.campaign()
        assert self.directory is not None
        return self.directory

    # --- submitting -----------------------------------------------------------------------------

    def _reject_window(self, at: dt.datetime) -> CampaignEntry:
        campaign = self.campaign(at)
        problem = window_error(campaign, at)
        if problem is not None:
            raise problem
        return campaign

    def check_window(self) -> None:
        """Before the body is read: a closed portal refuses at once."""
        self._reject_window(now())

    async def submit(self, raw: bytes, *, idempotency_key: str | None, client_ip: str) -> Accepted:
        at = now()
        campaign = self._reject_window(at)
        try:
            body: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ValidationFailed([{"field": "body", "message": "Nội dung gửi lên không phải JSON hợp lệ"}]) from None
        clean, errors = validate(body, this_year=local(at).year)
        directory = self.require_directory()
        tenant_id = 0
        if clean is not None:
            tenant = directory.tenant(campaign.tree, clean.unit)
            if tenant is None:
                errors.append({"field": "unit", "message": "Đơn vị không có trong danh sách đơn vị của đợt phát động"})
            elif clean.subunit not in tenant.units:
                errors.append({"field": "subunit", "message": "Đơn vị trực thuộc không thuộc đơn vị đã chọn"})
            else:
                tenant_id = tenant.tenant.id
        if errors or clean is None:
            raise ValidationFailed(errors)
        return await self._queue(clean, campaign, tenant_id, at, raw, idempotency_key, client_ip)

    async def _queue(
        self,
        clean: CleanSubmission,
        campaign: CampaignEntry,
        tenant_id: int,
        at: dt.datetime,
        raw: bytes,
        idempotency_key: str | None,
        client_ip: str,
    ) -> Accepted:
        s = self.settings
        id_sealed = self.cipher.seal(clean.id_number, kind="id_number")
        phone_sealed = self.cipher.seal(clean.phone, kind="phone")
        window = s.rate_window_seconds
        slot = int(at.timestamp()) // window
        idem_key = idem_value = ""
        k = (idempotency_key or "").strip()[:200]
        if k:  # a blank key is no key (else every such client would share one)
            idem_key = "idem:" + hashlib.sha256(k.encode()).hexdigest()
            # A keyed hash of the body: the same key with other content is refused, and the
            # stored value reveals nothing of the body.
            idem_value = hmac.digest(self._hash_key, raw, "sha256").hex()
        for _attempt in range(5):
            code = new_tracking_code(tenant_id)
            message = SubmissionMessage(
                submission_id=uuid.uuid4().hex,
                tracking_code=code,
                campaign=campaign.code,
                tenant_id=tenant_id,
                tenant=clean.unit,
                subunit=clean.subunit,
                full_name=clean.full_name,
                id_number=SealedField(ct=id_sealed.ciphertext, h=id_sealed.digest),
                phone=SealedField(ct=phone_sealed.ciphertext, h=phone_sealed.digest),
                group=clean.group,
                field=clean.field,
                title=clean.title,
                description=clean.description,
                birth_year=clean.birth_year,
                position=clean.position,
                workplace=clean.workplace,
                email=clean.email,
                applied_from=clean.applied_from,
                benefit=clean.benefit,
                awards=clean.awards,
                submitted_at=at,
            )
            call = AcceptCall(
                stream=s.submissions_stream,
                status_key=status_key(code),
                idempotency_key=idem_key,
                ip_key=f"rl:ip:{client_ip}:{slot}",
                phone_key=f"rl:ph:{phone_sealed.digest.hex()[:32]}:{slot}",
                message=message.model_dump_json().encode(),
                high_water=s.stream_high_water,
                status_ttl=s.status_ttl_days * 86_400,
                idempotency_value=idem_value,
                idempotency_ttl=s.idempotency_ttl_seconds,
                ip_limit=s.rate_limit_per_ip,
                phone_limit=s.rate_limit_per_phone,
                window=window,
                status_fields=(
                    "s", SubmissionStatus.queued.value,
                    "p", phone_sealed.digest.hex(),
                    "t", at.isoformat(),
                    "u", clean.unit,
                    "su", clean.subunit,
                    "c", campaign.code,
                    "ti", clean.title[:160],
                ),
            )  # fmt: skip
            try:
                kind, value = await self.appender.accept(call)
            except QueueUnavailable:
                OUTCOMES.labels("redis_unavailable").inc()
                raise ServiceUnavailable(
                    "Hệ thống tạm thời chưa nhận được sáng kiến, vui lòng gửi lại sau ít phút",
                    retry_after=s.retry_after_seconds,
                ) from None
            OUTCOMES.labels(kind).inc()
            retry_after = window - int(at.timestamp()) % window
            if kind == "ok":
                return Accepted(code, SubmissionStatus.queued.value, at)
            if kind == "replay":
                return Accepted(value, SubmissionStatus.queued.value, at, replayed=True)
            if kind == "idem_conflict":
                raise Conflict("Idempotency-Key này đã được dùng cho một sáng kiến khác", field="Idempotency-Key")
            if kind == "full":
                raise ServiceUnavailable(
                    "Hệ thống đang nhận quá nhiều sáng kiến cùng lúc, vui lòng gửi lại sau ít phút",
                    retry_after=s.retry_after_seconds,
                )
            if kind == "rate_ip":
                raise TooManyRequests(
                    "Có quá nhiều lượt gửi từ cùng một địa chỉ mạng, vui lòng thử lại sau", retry_after=retry_after
                )
            if kind == "rate_phone":
                raise TooManyRequests(
                    "Số điện thoại này đã gửi quá nhiều lần trong thời gian ngắn, vui lòng thử lại sau",
                    field="phone",
                    retry_after=retry_after,
                )
            # "collision": that tracking code is taken; draw another.
        raise ServiceUnavailable("Không cấp được mã theo dõi, vui lòng gửi lại", retry_after=1)

    # --- tracking -------------------------------------------------------------------------------

    def phone_digest(self, phone: str) -> str:
        return self.cipher.digest(phone, kind="phone").hex()

    def tracking(self, code: str, record: dict[str, str], phone_digest: str) -> Tracking:
        if not hmac.compare_digest(record.get("p", ""), phone_digest):
            raise NotFound("Không tìm thấy sáng kiến với mã theo dõi và số điện thoại này")
        status = record.get("s", SubmissionStatus.queued.value)
        unit, subunit = record.get("u"), record.get("su")
        unit_name = subunit_name = None
        if self.directory and unit:
            campaign = next((c for c in self.directory.snapshot.campaigns if c.code == record.get("c")), None)
            t = self.directory.tenant(campaign.tree, unit) if campaign else None
            if t is not None:
                unit_name = t.tenant.name
                su = t.units.get(subunit or "")
                subunit_name = su.name if su else None
        submitted = record.get("t")
        return Tracking(
            tracking_code=code,
            status=status,
            status_label=record.get("sl") or STATUS_LABELS.get(status, status),
            unit=unit,
            unit_name=unit_name,
            subunit=subunit,
            subunit_name=subunit_name,
            title=record.get("ti"),
            submitted_at=local(dt.datetime.fromisoformat(submitted)) if submitted else None,
        )
