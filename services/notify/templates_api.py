"""notify's API of the reminders' wording (shared/contracts/mailtemplates.py): a tenant's
administrator lists, edits, previews and resets the two templates. The tenant is the token's
alone, so row-level security keeps each tenant to its own rows; only the role "quan_tri" writes."""

from __future__ import annotations

import datetime as dt

import httpx
import structlog
from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from services.notify import messages
from services.notify import repository as repo
from services.notify.api import Caller
from services.notify.config import NotifySettings
from services.notify.review_client import ReviewClient
from shared.apierrors import error_responses
from shared.contracts.mailtemplates import TEMPLATE_LABELS, PreviewOut, TemplateIn, TemplateOut, TemplatesOut
from shared.db import tenant_session
from shared.errors import Forbidden, NotFound
from shared.servicetoken import Claims
from shared.text import nfc
from shared.timeutil import format_vn

log = structlog.get_logger("notify.templates")
# A service token for notify (401), a quản trị to write (403), one of the two templates (404).
router = APIRouter(tags=["mẫu thư"], responses=error_responses(401, 403, 404))
ADMIN_ROLE = "quan_tri"
# How far ahead the preview looks for a real deadline: within the 60 days review answers for.
PREVIEW_AHEAD = dt.timedelta(days=59)
VARIABLES = {
    "nhac_han": [
        "unit.unit_name",
        "days_left",
        "due_text",
        "count_text",
        "link",
        "subject",
        "d.campaign_name",
        "d.round_name",
        "d.level_name",
    ],
    "qua_han": [
        "parent_name",
        "units (u.unit_name, u.count_text)",
        "due_text",
        "link",
        "subject",
        "d.campaign_name",
        "d.round_name",
        "d.level_name",
    ],
}


def _name(name: str) -> str:
    if name not in messages.NAMES:
        raise NotFound("Không có mẫu thư này")
    return name


def _admin(claims: Claims) -> None:
    if claims.role != ADMIN_ROLE:
        raise Forbidden("Chỉ cán bộ quản trị được sửa mẫu thư nhắc")


def _cleaned(body: TemplateIn) -> TemplateIn:
    """What an administrator typed, as every form keeps it (shared/text.py): NFC, the control,
    bidirectional and zero-width characters dropped (a NUL cannot even be stored), line breaks kept."""
    return TemplateIn(subject=nfc(body.subject), body_text=nfc(body.body_text), body_html=nfc(body.body_html))


def _draft(body: TemplateIn) -> messages.Draft:
    return messages.Draft(body.subject, body.body_text, body.body_html)


def _out(session: Session, tenant_id: int, name: str) -> TemplateOut:
    edited = repo.templates(session, tenant_id).get(name)
    d = messages.DEFAULTS[name] if edited is None else edited
    return TemplateOut(
        name=name,
        label=TEMPLATE_LABELS[name],
        is_default=edited is None,
        subject=d.subject,
        body_text=d.body_text,
        body_html=d.body_html,
        updated_at=edited.updated_at if edited is not None else None,
    )


@router.get("/api/v1/templates", response_model=TemplatesOut)
def list_templates(claims: Caller, request: Request) -> TemplatesOut:
    with tenant_session(request.app.state.sessions, claims.tenant_id) as s:
        items = [_out(s, claims.tenant_id, n) for n in messages.NAMES]
    return TemplatesOut(items=items, variables=VARIABLES)


@router.put("/api/v1/templates/{name}", response_model=TemplateOut)
def save_template(name: str, body: TemplateIn, claims: Caller, request: Request) -> TemplateOut:
    _admin(claims)
    body = _cleaned(body)
    draft = _draft(body)
    messages.check(_name(name), draft)  # refused here, naming the field, before anything is written
    with tenant_session(request.app.state.sessions, claims.tenant_id) as s:
        values = {**body.model_dump(), "updated_by": claims.officer_id}
        repo.save_template(s, claims.tenant_id, name, values)
        s.flush()
        return _out(s, claims.tenant_id, name)


@router.delete("/api/v1/templates/{name}", response_model=TemplateOut)
def reset_template(name: str, claims: Caller, request: Request) -> TemplateOut:
    _admin(claims)
    with tenant_session(request.app.state.sessions, claims.tenant_id) as s:
        repo.delete_template(s, claims.tenant_id, _name(name))
        s.flush()
        return _out(s, claims.tenant_id, name)


def _real_context(settings: NotifySettings, tenant_id: int, name: str) -> tuple[dict[str, object], str] | None:
    """The tenant's nearest deadline ahead with a unit still owing, as review reports it; None
    when there is none or review does not answer (the preview then says it used the sample)."""
    now = dt.datetime.now(dt.UTC)
    try:
        owed = ReviewClient(settings.review_url, settings.service_token_key(), timeout=5.0).obligations(
            tenant_id, now, now + PREVIEW_AHEAD
        )
    except (httpx.HTTPError, ValueError):
        log.info("preview_without_review", tenant=tenant_id, exc_info=True)
        return None
    for d in sorted(owed.deadlines, key=lambda x: x.due_at):
        owing = [u for u in d.units if not u.fulfilled]
        if name == "qua_han":
            # One parent's overdue units, as one escalation mail would list them.
            parents = [u.parent_code for u in owing if u.parent_code]
            owing = [u for u in owing if parents and u.parent_code == parents[0]]
        if owing:
            ctx = messages.context(name, d, owing, settings.console_url)
            who = owing[0].parent_name if name == "qua_han" else owing[0].unit_name
            return ctx, f"Dữ liệu thật: {d.round_name}, hạn {format_vn(d.due_at)}, {who}"
    return None


@router.post("/api/v1/templates/{name}/preview", response_model=PreviewOut)
def preview_template(name: str, body: TemplateIn, claims: Caller, request: Request) -> PreviewOut:
    settings: NotifySettings = request.app.state.settings
    body = _cleaned(body)
    real = _real_context(settings, claims.tenant_id, _name(name))
    if real is None:
        ctx = messages.context(name, messages.SAMPLE_DEADLINE, [messages.SAMPLE_UNIT], settings.console_url)
        source = "Dữ liệu mẫu (chưa có hạn sắp tới còn đơn vị chưa giới thiệu đủ): Thanh Hóa, Đợt 1, hạn 16/04/2021"
    else:
        ctx, source = real
    msg = messages.render_checked(name, _draft(body), ctx)
    return PreviewOut(subject=msg.subject, body_text=msg.text, body_html=msg.html, sample=real is None, source=source)
