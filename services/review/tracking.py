"""The submitter's “theo dõi kết quả” look-up, answered by review once intake's Redis record
is gone. The tracking code names the tenant (its prefix), so the look-up runs under that
tenant's row-level security; the phone is compared by keyed hash, never in clear. The state
and its history come from the review workflow (workflow/tracking.py), in plain Vietnamese."""

from __future__ import annotations

import hmac

from sqlalchemy.orm import Session, sessionmaker

from services.review import repository as repo
from services.review.schemas import TrackingOut
from services.review.workflow.tracking import progress
from shared.contracts.submissions import normalize_tracking_code, tenant_id_of
from shared.db import tenant_session
from shared.errors import NotFound
from shared.timeutil import local


def lookup(sessions: sessionmaker[Session], raw_code: str, phone_digest_hex: str) -> TrackingOut:
    not_found = NotFound("Không tìm thấy sáng kiến với mã theo dõi và số điện thoại này")
    code = normalize_tracking_code(raw_code)
    if code is None:
        raise not_found
    with tenant_session(sessions, tenant_id_of(code)) as s:
        found = repo.submission_by_code(s, tenant_id_of(code), code)
        # A submission whose personal data the retention job deleted has no phone to match.
        phone_hash = None if found is None else found[0].phone_hash
        if found is None or phone_hash is None or not hmac.compare_digest(phone_hash.hex(), phone_digest_hex.lower()):
            raise not_found
        sub, unit, tenant = found
        state = progress(s, sub)
        return TrackingOut(
            tracking_code=sub.tracking_code,
            status=state.status,
            status_label=state.label,
            status_detail=state.detail,
            history=state.history,
            unit=tenant.code,
            unit_name=tenant.name,
            subunit=unit.code,
            subunit_name=unit.name,
            title=sub.title,
            submitted_at=local(sub.submitted_at),
        )
