"""The employer's confirmation that an initiative is applied: an officer asks for a link, the
employer or head of unit opens it (no sign-in), gives name, title and the date the initiative
was first applied. The link is HMAC-signed (tokens.py), expires, and works once. Without a
confirmation an initiative cannot be nominated (validity: “xac_nhan”)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from services.review.accounts.principal import Officer
from services.review.audit import service as audit
from services.review.workflow import repository as repo
from services.review.workflow.access import DECIDERS, actor, find_case, require_role
from services.review.workflow.models import Confirmation
from services.review.workflow.schemas import ConfirmationLinkOut, ConfirmationOut, ConfirmIn
from services.review.workflow.tokens import BadToken, Claims, issue, read
from shared.errors import Conflict, DomainError, InvalidInput, NotFound
from shared.text import one_line
from shared.timeutil import now


class LinkExpired(DomainError):
    status_code = 410
    code = "het_han"


def create_link(
    session: Session,
    officer: Officer,
    code: str,
    *,
    key: bytes,
    ttl: dt.timedelta,
    base_url: str,
    at: dt.datetime | None = None,
) -> ConfirmationLinkOut:
    at = at or now()
    sub, _ = find_case(session, officer, code)
    require_role(officer, DECIDERS)
    # The token carries whole seconds: the row keeps the same instant, so both agree.
    expires = (at + ttl).replace(microsecond=0)
    row = Confirmation(
        tenant_id=sub.tenant_id, submission_id=sub.id, created_by=officer.id, created_at=at, expires_at=expires
    )
    repo.add(session, row)
    token = issue(key, Claims(sub.tenant_id, row.id, row.expires_at))
    audit.record(
        session,
        sub.tenant_id,
        actor(officer),
        action="gui_link_xac_nhan",
        entity="submission",
        entity_id=sub.id,
        after={"confirmation": row.id, "expires_at": row.expires_at.isoformat()},
    )
    return ConfirmationLinkOut(
        tracking_code=sub.tracking_code,
        url=f"{base_url.rstrip('/')}/xac-nhan/{token}",
        token=token,
        expires_at=row.expires_at,
    )


def _open(session: Session, claims: Claims) -> tuple[Confirmation, ConfirmationOut]:
    row = repo.confirmation(session, claims.tenant_id, claims.confirmation_id)
    sub = None if row is None else repo.submission(session, claims.tenant_id, row.submission_id)
    unit = None if sub is None else repo.unit(session, sub.tenant_id, sub.unit_id)
    if row is None or sub is None or unit is None:
        raise NotFound("Đường dẫn xác nhận không đúng")
    case = repo.ensure_case(session, sub, lock=False)
    own = repo.unit(session, sub.tenant_id, case.own_unit_id) or unit
    return row, ConfirmationOut(
        tracking_code=sub.tracking_code,
        title=sub.title,
        unit_name=own.name,
        confirmed=row.consumed_at is not None,
        confirmer_name=row.confirmer_name,
        confirmer_title=row.confirmer_title,
        applied_on=row.applied_on,
        expires_at=row.expires_at,
    )


def claims_of(key: bytes, token: str) -> Claims:
    """The tenant and confirmation a token names, if we signed it; the caller opens a session
    under that tenant (the public page has no officer to take it from)."""
    try:
        return read(key, token)
    except BadToken as exc:
        raise NotFound("Đường dẫn xác nhận không đúng") from exc


def view(session: Session, claims: Claims, *, at: dt.datetime | None = None) -> ConfirmationOut:
    row, out = _open(session, claims)
    if row.consumed_at is None and (at or now()) >= row.expires_at:
        raise LinkExpired("Đường dẫn xác nhận đã hết hạn; đề nghị công đoàn gửi đường dẫn mới")
    return out


def confirm(session: Session, claims: Claims, body: ConfirmIn, *, at: dt.datetime | None = None) -> ConfirmationOut:
    """One use: the UPDATE takes the row only while unconsumed and unexpired."""
    at = at or now()
    name, title = one_line(body.name), one_line(body.title)  # typed by anyone holding the link
    if not name:
        raise InvalidInput("Cần nhập họ và tên người xác nhận", field="name")
    if not title:
        raise InvalidInput("Cần nhập chức vụ người xác nhận", field="title")
    row, _ = _open(session, claims)
    if row.consumed_at is not None:
        raise Conflict("Đường dẫn xác nhận đã được sử dụng")
    if at >= row.expires_at or at >= claims.expires_at:
        raise LinkExpired("Đường dẫn xác nhận đã hết hạn; đề nghị công đoàn gửi đường dẫn mới")
    if not repo.consume_confirmation(
        session, claims.tenant_id, claims.confirmation_id, at=at, name=name, title=title, applied_on=body.applied_on
    ):
        raise Conflict("Đường dẫn xác nhận đã được sử dụng")
    audit.record(
        session,
        claims.tenant_id,
        audit.Actor(None, f"người xác nhận: {name}, {title}"),
        action="xac_nhan_ap_dung",
        entity="submission",
        entity_id=row.submission_id,
        before={"confirmed": False},
        after={"confirmed": True, "confirmation": row.id, "applied_on": body.applied_on.isoformat()},
    )
    session.expire_all()
    return _open(session, claims)[1]
