"""The workflow's JSON API (officers, signed in through services/review/accounts) and the
employer's public confirmation page. Handlers translate HTTP to service calls; the officer's
session commits after the handler (accounts.deps.officer_session)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from services.review.accounts.deps import CurrentOfficer, OfficerSession
from services.review.audit import service as audit_service
from services.review.config import ReviewSettings
from services.review.workflow import appraisal, configure, confirmation, nominations, routing, service
from services.review.workflow.access import require_role
from services.review.workflow.schemas import (
    AppraisalOut,
    AuditVerifyOut,
    CaseOut,
    CommendIn,
    ComplaintIn,
    ComplaintOut,
    ConfirmationLinkOut,
    ConfirmationOut,
    ConfirmIn,
    DeadlineIn,
    DecideIn,
    NationalOut,
    NominateIn,
    NominationOut,
    PersonalDataOut,
    PublicComplaintIn,
    QuotaOverrideIn,
    QuotaReportOut,
    QuotaRowOut,
    QuotaRuleIn,
    RankingOut,
    ResolveIn,
    RoundCloseOut,
    RouteIn,
    RubricIn,
    ScoresIn,
    TradeSecretIn,
    ValidityOut,
)
from services.review.workflow.tokens import Claims
from shared.apierrors import error_responses
from shared.contracts.submissions import normalize_tracking_code, tenant_id_of
from shared.db import tenant_session
from shared.errors import DomainError, NotFound
from shared.pii import PiiCipher
from shared.timeutil import format_vn

# Officers signed in (401), with the CSRF token and the role (403), on what their units hold
# (404 for anything else), in a state that allows it (409).
router = APIRouter(prefix="/api/v1/workflow", tags=["xét chọn"], responses=error_responses(401, 403, 404, 409))
# No one signed in: the link or the code is the only key (404), used once (409), expiring (410).
public = APIRouter(tags=["xác nhận áp dụng"], responses=error_responses(404, 409, 410))

Code = Annotated[str, Path(max_length=24, description="mã theo dõi")]
Campaign = Annotated[str, Path(max_length=64)]
RoundCode = Annotated[str, Path(max_length=32)]


def _settings(request: Request) -> ReviewSettings:
    settings: ReviewSettings = request.app.state.settings
    return settings


# --- initiatives -----------------------------------------------------------------------------


@router.get("/submissions", response_model=list[CaseOut], summary="Sáng kiến của đơn vị và cấp dưới")
def list_cases(
    officer: CurrentOfficer, session: OfficerSession, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[CaseOut]:
    return service.list_cases(session, officer, limit=limit)


@router.get("/submissions/{code}", response_model=CaseOut)
def get_case(code: Code, officer: CurrentOfficer, session: OfficerSession) -> CaseOut:
    return service.get_case(session, officer, code)


@router.post("/submissions/{code}/route", response_model=CaseOut, summary="Chuyển xuống đơn vị trực thuộc")
def route(code: Code, body: RouteIn, officer: CurrentOfficer, session: OfficerSession) -> CaseOut:
    return routing.route(session, officer, code, body.unit)


@router.post("/submissions/{code}/trade-secret", response_model=CaseOut, summary="Bí mật kinh doanh")
def trade_secret(code: Code, body: TradeSecretIn, officer: CurrentOfficer, session: OfficerSession) -> CaseOut:
    return routing.set_trade_secret(session, officer, code, body.trade_secret)


@router.get("/submissions/{code}/validity", response_model=ValidityOut, summary="Điều kiện hồ sơ hợp lệ")
def validity(
    code: Code, officer: CurrentOfficer, session: OfficerSession, round: Annotated[str, Query(max_length=32)]
) -> ValidityOut:
    return service.validity(session, officer, code, round)


@router.post("/submissions/{code}/scores", response_model=AppraisalOut, summary="Chấm điểm thẩm định")
def score(code: Code, body: ScoresIn, officer: CurrentOfficer, session: OfficerSession) -> AppraisalOut:
    return appraisal.score(session, officer, code, body.round, body.scores, body.comment)


@router.get("/submissions/{code}/appraisal", response_model=AppraisalOut, summary="Kết quả thẩm định")
def get_appraisal(
    code: Code, officer: CurrentOfficer, session: OfficerSession, round: Annotated[str, Query(max_length=32)]
) -> AppraisalOut:
    return appraisal.appraisal(session, officer, code, round)


@router.post(
    "/submissions/{code}/confirmation-link", response_model=ConfirmationLinkOut, summary="Đường dẫn xác nhận áp dụng"
)
def confirmation_link(
    request: Request, code: Code, officer: CurrentOfficer, session: OfficerSession
) -> ConfirmationLinkOut:
    s = _settings(request)
    return confirmation.create_link(
        session,
        officer,
        code,
        key=s.confirmation_signing_key(),
        ttl=dt.timedelta(hours=s.confirmation_ttl_hours),
        base_url=s.public_url,
    )


@router.post("/submissions/{code}/complaints", response_model=ComplaintOut, status_code=201, summary="Khiếu nại")
def file_complaint(code: Code, body: ComplaintIn, officer: CurrentOfficer, session: OfficerSession) -> ComplaintOut:
    return service.file_complaint(session, officer, code, kind=body.kind, body=body.body, filer_name=body.filer_name)


@router.post("/complaints/{complaint_id}/resolve", response_model=ComplaintOut, summary="Giải quyết khiếu nại")
def resolve_complaint(
    complaint_id: int, body: ResolveIn, officer: CurrentOfficer, session: OfficerSession
) -> ComplaintOut:
    return service.resolve_complaint(session, officer, complaint_id, body.reason)


@router.post("/submissions/{code}/nominate", response_model=NominationOut, summary="Giới thiệu lên cấp trên")
def nominate(code: Code, body: NominateIn, officer: CurrentOfficer, session: OfficerSession) -> NominationOut:
    return nominations.nominate(session, officer, code, body.round)


@router.post("/submissions/{code}/commend", response_model=NominationOut, summary="Biểu dương")
def commend(code: Code, body: CommendIn, officer: CurrentOfficer, session: OfficerSession) -> NominationOut:
    return nominations.commend(session, officer, code, body.round, body.title)


@router.post("/submissions/{code}/unmask", response_model=PersonalDataOut, summary="Xem CMND/CCCD, số điện thoại")
def unmask(request: Request, code: Code, officer: CurrentOfficer, session: OfficerSession) -> PersonalDataOut:
    return service.unmask(session, officer, code, PiiCipher.from_settings(_settings(request)))


# --- rounds ----------------------------------------------------------------------------------


@router.get("/campaigns/{campaign}/rounds/{round_code}/ranking", response_model=RankingOut, summary="Xếp hạng")
def ranking(campaign: Campaign, round_code: RoundCode, officer: CurrentOfficer, session: OfficerSession) -> RankingOut:
    return appraisal.ranking(session, officer, campaign, round_code)


@router.get("/campaigns/{campaign}/rounds/{round_code}/quotas", response_model=QuotaReportOut, summary="Số lượng")
def quotas(
    campaign: Campaign, round_code: RoundCode, officer: CurrentOfficer, session: OfficerSession
) -> QuotaReportOut:
    return nominations.quota_report(session, officer, campaign, round_code)


@router.post(
    "/campaigns/{campaign}/rounds/{round_code}/quotas/{unit}/override",
    response_model=QuotaRowOut,
    summary="Cho phép vượt số lượng (có lý do)",
)
def override_quota(
    campaign: Campaign,
    round_code: RoundCode,
    unit: Annotated[str, Path(max_length=64)],
    body: QuotaOverrideIn,
    officer: CurrentOfficer,
    session: OfficerSession,
) -> QuotaRowOut:
    return nominations.override_quota(session, officer, campaign, round_code, unit, body.extra, body.reason)


@router.post("/campaigns/{campaign}/rounds/{round_code}/close", response_model=RoundCloseOut, summary="Chốt đợt")
def close_round(
    campaign: Campaign, round_code: RoundCode, officer: CurrentOfficer, session: OfficerSession
) -> RoundCloseOut:
    return appraisal.close_round(session, officer, campaign, round_code)


# --- configuration (quản trị; refused for a closed round; audited) ---------------------------


@router.put(
    "/campaigns/{campaign}/rounds/{round_code}/deadlines/{deadline_id}", status_code=204, summary="Sửa thời hạn"
)
def edit_deadline(
    campaign: Campaign,
    round_code: RoundCode,
    deadline_id: int,
    body: DeadlineIn,
    officer: CurrentOfficer,
    session: OfficerSession,
) -> None:
    configure.set_deadline(session, officer, campaign, round_code, deadline_id, body.due_at)


@router.put("/campaigns/{campaign}/rounds/{round_code}/quota-rules/{rule_id}", status_code=204, summary="Sửa số lượng")
def edit_quota_rule(
    campaign: Campaign,
    round_code: RoundCode,
    rule_id: int,
    body: QuotaRuleIn,
    officer: CurrentOfficer,
    session: OfficerSession,
) -> None:
    configure.set_quota(session, officer, campaign, round_code, rule_id, body.min_count, body.max_count)


@router.put("/campaigns/{campaign}/rubric", status_code=204, summary="Sửa thang điểm (tổng trọng số 100)")
def edit_rubric(campaign: Campaign, body: RubricIn, officer: CurrentOfficer, session: OfficerSession) -> None:
    edits = {c.code: configure.CriterionEdit(c.code, c.name, str(c.weight)) for c in body.criteria}
    configure.set_rubric(session, officer, campaign, edits)


# --- the Tổng Liên đoàn ----------------------------------------------------------------------


@router.get("/national/nominations", response_model=list[NationalOut], summary="Sáng kiến được đề nghị lên TLĐ")
def national(officer: CurrentOfficer, session: OfficerSession) -> list[NationalOut]:
    return nominations.national_list(session, officer)


@router.post(
    "/national/nominations/{source_tenant_id}/{source_submission_id}/decide",
    response_model=NationalOut,
    summary="Quyết định của Tổng Liên đoàn",
)
def national_decide(
    source_tenant_id: int, source_submission_id: int, body: DecideIn, officer: CurrentOfficer, session: OfficerSession
) -> NationalOut:
    return nominations.national_decide(
        session, officer, source_tenant_id, source_submission_id, body.decision, body.note
    )


# --- the audit log ---------------------------------------------------------------------------


@router.get("/audit/verify", response_model=AuditVerifyOut, summary="Kiểm tra chuỗi nhật ký")
def audit_verify(officer: CurrentOfficer, session: OfficerSession) -> AuditVerifyOut:
    from services.review.accounts.models import Role

    require_role(officer, (Role.quan_tri,))
    v = audit_service.verify_chain(session, officer.tenant_id)
    return AuditVerifyOut(ok=v.ok, rows=v.rows, first_bad_seq=v.first_bad_seq, problem=v.problem)


@router.get(
    "/audit/export",
    summary="Xuất nhật ký (JSON lines hoặc CSV)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Nhật ký, mỗi dòng một bản ghi (JSON lines) hoặc bảng CSV",
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
def audit_export(
    request: Request, officer: CurrentOfficer, format: Literal["jsonl", "csv"] = "jsonl"
) -> StreamingResponse:
    """Streams in its own read-only transaction under the officer's tenant (a response body
    outlives the request's session)."""
    from services.review.accounts.models import Role

    require_role(officer, (Role.quan_tri,))
    sessions = request.app.state.sessions
    tenant_id = officer.tenant_id

    def lines() -> Iterator[str]:
        with tenant_session(sessions, tenant_id) as s:
            export = audit_service.export_jsonl if format == "jsonl" else audit_service.export_csv
            yield from export(s, tenant_id)

    media = "application/x-ndjson" if format == "jsonl" else "text/csv; charset=utf-8"
    name = f"nhat-ky-{tenant_id}.{format}"
    return StreamingResponse(
        lines(), media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


# --- public: the employer's confirmation and, where allowed, complaints ----------------------


def _claims(request: Request, token: str) -> Claims:
    return confirmation.claims_of(_settings(request).confirmation_signing_key(), token)


@public.get("/api/v1/xac-nhan/{token}", response_model=ConfirmationOut, summary="Thông tin cần xác nhận")
def confirmation_info(request: Request, token: Annotated[str, Path(max_length=200)]) -> ConfirmationOut:
    claims = _claims(request, token)
    with tenant_session(request.app.state.sessions, claims.tenant_id) as s:
        return confirmation.view(s, claims)


@public.post("/api/v1/xac-nhan/{token}", response_model=ConfirmationOut, summary="Xác nhận sáng kiến đang áp dụng")
def confirm_json(request: Request, token: Annotated[str, Path(max_length=200)], body: ConfirmIn) -> ConfirmationOut:
    claims = _claims(request, token)
    with tenant_session(request.app.state.sessions, claims.tenant_id) as s:
        return confirmation.confirm(s, claims, body)


@public.post("/api/v1/khieu-nai", response_model=ComplaintOut, status_code=201, summary="Khiếu nại (công khai)")
def public_complaint(request: Request, body: PublicComplaintIn) -> ComplaintOut:
    code = normalize_tracking_code(body.tracking_code)
    if code is None:
        raise NotFound("Không tìm thấy sáng kiến", field="tracking_code")
    with tenant_session(request.app.state.sessions, tenant_id_of(code)) as s:
        return service.file_public_complaint(
            s, tenant_id_of(code), code, kind=body.kind, body=body.body, filer_name=body.filer_name
        )


_PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Xác nhận áp dụng sáng kiến</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}
label{{display:block;margin-top:1rem}}input{{width:100%;padding:.5rem;font-size:1rem}}
button{{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}}.loi{{color:#b00020}}</style></head>
<body><h1>Xác nhận áp dụng sáng kiến</h1>{body}</body></html>"""


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(body=body), status_code=status)


def _describe(out: ConfirmationOut) -> str:
    e = html.escape
    return (
        f"<p>Sáng kiến <strong>{e(out.title)}</strong> (mã theo dõi {e(out.tracking_code)}) của {e(out.unit_name)}.</p>"
    )


@public.get("/xac-nhan/{token}", response_class=HTMLResponse, include_in_schema=False)
def confirmation_page(request: Request, token: Annotated[str, Path(max_length=200)]) -> HTMLResponse:
    try:
        claims = _claims(request, token)
        with tenant_session(request.app.state.sessions, claims.tenant_id) as s:
            out = confirmation.view(s, claims)
    except DomainError as exc:
        return _page(f'<p class="loi">{html.escape(exc.message)}</p>', exc.status_code)
    if out.confirmed:
        return _page(_describe(out) + "<p>Sáng kiến đã được xác nhận. Xin cảm ơn.</p>")
    form = (
        '<form method="post">'
        '<label>Họ và tên người xác nhận<input name="name" required maxlength="200"></label>'
        "<label>Chức vụ (người sử dụng lao động, thủ trưởng cơ quan, đơn vị)"
        '<input name="title" required maxlength="200"></label>'
        '<label>Sáng kiến bắt đầu áp dụng từ ngày<input name="applied_on" type="date" required></label>'
        "<button>Xác nhận sáng kiến đang được áp dụng</button></form>"
        f"<p>Đường dẫn chỉ dùng được một lần, hết hạn lúc {format_vn(out.expires_at)}.</p>"
    )
    return _page(_describe(out) + form)


@public.post("/xac-nhan/{token}", response_class=HTMLResponse, include_in_schema=False)
def confirmation_submit(
    request: Request,
    token: Annotated[str, Path(max_length=200)],
    name: Annotated[str, Form(max_length=200)],
    title: Annotated[str, Form(max_length=200)],
    applied_on: Annotated[dt.date, Form()],
) -> HTMLResponse:
    try:
        claims = _claims(request, token)
        with tenant_session(request.app.state.sessions, claims.tenant_id) as s:
            out = confirmation.confirm(s, claims, ConfirmIn(name=name, title=title, applied_on=applied_on))
    except DomainError as exc:
        return _page(f'<p class="loi">{html.escape(exc.message)}</p>', exc.status_code)
    return _page(_describe(out) + "<p>Đã ghi nhận xác nhận. Xin cảm ơn.</p>")
