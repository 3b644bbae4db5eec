"""Intake's rules: validate, check the campaign window and the unit, seal the personal data,
queue, answer. No framework here (api.py speaks HTTP) and no SQL (intake has none)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
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
    MESSAGE_VERSION,
    STATUS_LABELS,
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
from shared.pii import (
    ID_NUMBER,
    PHONE,
    HmacSha256,
    InvalidPersonalData,
    PiiCipher,
    SealedValue,
    normalize_id_number,
    normalize_phone,
)
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
# rate_id, idem_conflict, collision, redis_unavailable. An operator on call watches full and unavailable.
OUTCOMES = Counter("intake_submissions_total", "Submissions by outcome at the queue", ["outcome"])
# The labelled counters, looked up once (``labels()`` takes a lock and builds a key per call).
_OUTCOME = {
    kind: OUTCOMES.labels(kind)
    for kind in (
        "ok",
        "replay",
        "full",
        "rate_ip",
        "rate_phone",
        "rate_id",
        "idem_conflict",
        "collision",
        "redis_unavailable",
    )
}

_RATE_KEYS = frozenset(("rate_ip", "rate_phone", "rate_id"))


def ip_counter(client_ip: str, slot: int) -> str:
    """The per-address counter of a window, as the accept script counts it and OverLimit remembers it."""
    return f"rl:ip:{client_ip}:{slot}"


def person_counter(prefix: str, digest_hex: str, slot: int) -> str:
    """The per-phone (``ph``) or per-ID-number (``id``) counter: the keyed hash, never the number."""
    return f"rl:{prefix}:{digest_hex[:32]}:{slot}"


# uuid4 as ``uuid.uuid4().hex`` spells it, from the same 16 random bytes, without the UUID object.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_submission_id() -> str:
    """A random (version 4) UUID in hex: the message's ``submission_id``."""
    return f"{int.from_bytes(os.urandom(16)) & _UUID4_CLEAR | _UUID4_SET:032x}"


def message_fields(
    clean: CleanSubmission,
    campaign: str,
    tenant_id: int,
    id_sealed: SealedValue,
    phone_sealed: SealedValue,
    at: dt.datetime,
) -> dict[str, Any]:
    """The stream message (:class:`SubmissionMessage`) as the dict orjson encodes, field for
    field and byte for byte what ``SubmissionMessage(...).model_dump_json()`` gives (same field
    order, bytes in URL-safe base64, UTC as ``Z``): validating the model and serialising it through
    pydantic cost more than the rest of the message. ``submission_id`` and ``tracking_code`` are
    set per attempt. tests/intake/test_hot_path.py holds the two encodings equal."""
    return {
        "v": MESSAGE_VERSION,
        "submission_id": "",
        "tracking_code": "",
        "campaign": campaign,
        "tenant_id": tenant_id,
        "tenant": clean.unit,
        "subunit": clean.subunit,
        "full_name": clean.full_name,
        "id_number": {"ct": _b64(id_sealed.ciphertext), "h": _b64(id_sealed.digest)},
        "phone": {"ct": _b64(phone_sealed.ciphertext), "h": _b64(phone_sealed.digest)},
        "group": clean.group,
        "field": clean.field,
        "title": clean.title,
        "description": clean.description,
        "birth_year": clean.birth_year,
        "position": clean.position,
        "workplace": clean.workplace,
        "email": clean.email,
        "applied_from": clean.applied_from,
        "benefit": clean.benefit,
        "awards": clean.awards,
        "submitted_at": at,
    }


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode("ascii")


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


class OverLimit:
    """The counters Redis has said are past their limit in the current window (address, phone,
    ID number), so that this process refuses the next request on the same key itself: before its
    body is validated and its personal data sealed, and without a round trip. A flood then costs
    the server little more than reading it (bench/flood.py measures what it leaves the others).

    Only what Redis said is remembered, and only for its window (the window is in the key), so
    the answers are the ones Redis would give. Requests with an Idempotency-Key are not answered
    from here: a retry under its key may be a replay, which only Redis knows."""

    MAX_KEYS = 65_536  # a botnet of phones each past its limit: bounded, then forgotten

    def __init__(self) -> None:
        self.slot = -1
        self.keys: dict[str, str] = {}  # counter key → refusal kind

    def __bool__(self) -> bool:
        return bool(self.keys)

    def kind(self, key: str) -> str | None:
        return self.keys.get(key)

    def add(self, slot: int, key: str, kind: str) -> None:
        if slot != self.slot or len(self.keys) >= self.MAX_KEYS:
            self.keys.clear()  # the last window's keys can never match again
            self.slot = slot
        self.keys[key] = kind


class IntakeService:
    def __init__(self, settings: IntakeSettings, cipher: PiiCipher, appender: StreamAppender) -> None:
        self.settings = settings
        self.cipher = cipher
        self.appender = appender
        self.directory: Directory | None = None
        self._body_mac = HmacSha256(settings.pii_keyring()[2])
        self.over_limit = OverLimit()

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
        assert self.directory is not None  # campaign() found one
        opens, closes = self.directory.window(campaign)
        if opens <= at < closes:
            return campaign
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
        # A key Redis has refused in this window (nothing to look up in normal times).
        known = bool(self.over_limit) and not (idempotency_key or "").strip()
        slot = int(at.timestamp()) // self.settings.rate_window_seconds
        if known and (kind := self.over_limit.kind(ip_counter(client_ip, slot))):
            raise self._too_many(kind, at)
        try:
            body: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ValidationFailed([{"field": "body", "message": "Nội dung gửi lên không phải JSON hợp lệ"}]) from None
        if known and isinstance(body, dict) and (kind := self._known_person(body, slot)):
            raise self._too_many(kind, at)
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

    def _known_person(self, body: dict[str, Any], slot: int) -> str | None:
        """The refusal Redis gave this phone or ID number in this window, if any (the keyed hashes
        as _queue computes them; a value that does not normalise is validate()'s to refuse)."""
        for name, normalize, kind, prefix in (
            ("phone", normalize_phone, PHONE, "ph"),
            ("id_number", normalize_id_number, ID_NUMBER, "id"),
        ):
            value = body.get(name)
            if not isinstance(value, str):
                continue
            try:
                digest = self.cipher.digest(normalize(value), kind=kind).hex()
            except InvalidPersonalData:
                continue
            refused = self.over_limit.kind(person_counter(prefix, digest, slot))
            if refused:
                return refused
        return None

    def _too_many(self, kind: str, at: dt.datetime) -> TooManyRequests:
        window = self.settings.rate_window_seconds
        retry_after = window - int(at.timestamp()) % window
        _OUTCOME[kind].inc()
        if kind == "rate_ip":
            return TooManyRequests(
                "Có quá nhiều lượt gửi từ cùng một địa chỉ mạng, vui lòng thử lại sau", retry_after=retry_after
            )
        if kind == "rate_phone":
            return TooManyRequests(
                "Số điện thoại này đã gửi quá nhiều lần trong thời gian ngắn, vui lòng thử lại sau",
                field="phone",
                retry_after=retry_after,
            )
        return TooManyRequests(
            "Số CMND/CCCD này đã gửi quá nhiều lần trong thời gian ngắn, vui lòng thử lại sau",
            field="id_number",
            retry_after=retry_after,
        )

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
        id_sealed, phone_sealed = self.cipher.seal_identity(clean.id_number, clean.phone)
        phone_digest = phone_sealed.digest.hex()
        window = s.rate_window_seconds
        slot = int(at.timestamp()) // window
        idem_key = idem_value = ""
        k = (idempotency_key or "").strip()[:200]
        if k:  # a blank key is no key (else every such client would share one)
            idem_key = "idem:" + hashlib.sha256(k.encode()).hexdigest()
            # A keyed hash of the body: the same key with other content is refused, and the
            # stored value reveals nothing of the body.
            idem_value = self._body_mac(raw).hex()
        # What every attempt shares: the message but its two ids, the status record but its key.
        fields = message_fields(clean, campaign.code, tenant_id, id_sealed, phone_sealed, at)
        status_fields = (
            "s", SubmissionStatus.queued.value,
            "p", phone_digest,
            "t", at.isoformat(),
            "u", clean.unit,
            "su", clean.subunit,
            "c", campaign.code,
            "ti", clean.title[:160],
        )  # fmt: skip
        ip_key = ip_counter(client_ip, slot)
        phone_key = person_counter("ph", phone_digest, slot)
        id_key = person_counter("id", id_sealed.digest.hex(), slot)
        for _attempt in range(5):
            code = new_tracking_code(tenant_id)
            fields["submission_id"] = new_submission_id()
            fields["tracking_code"] = code
            call = AcceptCall(
                stream=s.submissions_stream,
                status_key=status_key(code),
                idempotency_key=idem_key,
                ip_key=ip_key,
                phone_key=phone_key,
                message=orjson.dumps(fields, option=orjson.OPT_UTC_Z),
                high_water=s.stream_high_water,
                status_ttl=s.status_ttl_days * 86_400,
                idempotency_value=idem_value,
                idempotency_ttl=s.idempotency_ttl_seconds,
                ip_limit=s.rate_limit_per_ip,
                phone_limit=s.rate_limit_per_phone,
                window=window,
                status_fields=status_fields,
                id_key=id_key,
                id_limit=s.rate_limit_per_id_number,
            )
            try:
                kind, value = await self.appender.accept(call)
            except QueueUnavailable:
                _OUTCOME["redis_unavailable"].inc()
                raise ServiceUnavailable(
                    "Hệ thống tạm thời chưa nhận được sáng kiến, vui lòng gửi lại sau ít phút",
                    retry_after=s.retry_after_seconds,
                ) from None
            if kind in _RATE_KEYS:
                key = {"rate_ip": ip_key, "rate_phone": phone_key, "rate_id": id_key}[kind]
                self.over_limit.add(slot, key, kind)
                raise self._too_many(kind, at)
            outcome = _OUTCOME.get(kind)
            (outcome or OUTCOMES.labels(kind)).inc()
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
            # "collision": that tracking code is taken; draw another.
        raise ServiceUnavailable("Không cấp được mã theo dõi, vui lòng gửi lại", retry_after=1)

    # --- tracking -------------------------------------------------------------------------------

    def phone_digest(self, phone: str) -> str:
        return self.cipher.digest(phone, kind=PHONE).hex()

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
