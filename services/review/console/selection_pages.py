"""The console's selection pages: an initiative's page with its selection panel and the forms on
it (route down or keep, appraise, ask the employer to confirm, nominate, commend), the “Đề cử”
page, the quota override, the configuration (administrators) and the Tổng Liên đoàn's inbox.

Every form posts with the session's CSRF token (``PageOfficer`` checks it). The acts are the
workflow's functions: they enforce roles, the unit holding the initiative and, in the database,
the quota. A refusal rolls the request's transaction back and shows the page again with the
workflow's Vietnamese message (409/422); 403 and 404 show the message page. A success redirects
(303) to the page it came from with a fixed notice, so reloading never posts twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from services.review.accounts.deps import PageOfficer, PageSession
from services.review.accounts.principal import Officer
from services.review.accounts.templating import render
from services.review.config import ReviewSettings
from services.review.console import board, disputes, selection, service
from services.review.console.pages import _cipher, _problem
from services.review.workflow import appraisal, confirmation, nominations, routing
from services.review.workflow.schemas import ConfirmationLinkOut
from shared.errors import DomainError, InvalidInput

router = APIRouter(prefix="/console", include_in_schema=False)
BOARD_PATH = "/console/de-cu"
MAX_COMMENT = 4000

# What a redirect after a successful form may say (a key in the URL, never free text).
NOTICES = {
    "cham-diem": "Đã lưu điểm thẩm định của bạn.",
    "de-cu": "Đã giới thiệu sáng kiến lên cấp trên.",
    "bieu-duong": "Đã biểu dương sáng kiến.",
    "chuyen": "Đã chuyển sáng kiến xuống đơn vị trực thuộc.",
    "giu-lai": "Đơn vị giữ lại sáng kiến để trực tiếp xem xét.",
    "vuot": "Đã cho phép đơn vị giới thiệu vượt số lượng; lý do được ghi vào nhật ký.",
    "khieu-nai": "Đã ghi nhận khiếu nại, tranh chấp; sáng kiến tạm dừng xét chọn cho đến khi giải quyết xong.",
    "giai-quyet": "Đã giải quyết khiếu nại, tranh chấp; lý do được ghi vào nhật ký.",
    "bi-mat": "Đã xác định sáng kiến là bí mật kinh doanh.",
    "bo-bi-mat": "Đã bỏ xác định bí mật kinh doanh.",
}
Round = Annotated[str, Form(max_length=32)]


def _settings(request: Request) -> ReviewSettings:
    settings: ReviewSettings = request.app.state.settings
    return settings


def _detail_path(code: str, round_code: str = "", notice: str = "") -> str:
    query = urlencode({k: v for k, v in (("dot", round_code), ("tb", notice)) if v})
    return f"/console/sang-kien/{code}" + (f"?{query}" if query else "")


def _board_path(campaign: str = "", round_code: str = "", notice: str = "", code: str = "") -> str:
    params = (("chuong_trinh", campaign), ("dot", round_code), ("tb", notice), ("ma", code))
    query = urlencode({k: v for k, v in params if v})
    return BOARD_PATH + (f"?{query}" if query else "")


def _refused(session: Session, exc: DomainError) -> bool:
    """A refusal to show on the page itself (the officer can act on it), after undoing whatever
    the failed act had written in this transaction."""
    session.rollback()
    return exc.status_code in (409, 410, 422)


# --- an initiative's page --------------------------------------------------------------------


def detail_response(
    request: Request,
    officer: Officer,
    session: Session,
    code: str,
    round_code: str = "",
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    link: ConfirmationLinkOut | None = None,
) -> Response:
    try:
        d = service.detail(session, officer, code[:40], _cipher(request))
        p = selection.panel(session, officer, d.tracking_code, round_code or None)
        k = disputes.disputes(session, officer, d.tracking_code)
    except DomainError as exc:
        return _problem(request, officer, exc)
    return render(
        request,
        "console/sang_kien_chi_tiet.html",
        officer=officer,
        current="sang-kien",
        title=d.title,
        status=status,
        d=d,
        p=p,
        k=k,
        error=error,
        notice=notice,
        link=link,
    )


@router.get("/sang-kien/{tracking_code}")
def detail_page(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    tracking_code: str,
    dot: Annotated[str, Query(max_length=32)] = "",
    tb: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return detail_response(request, officer, session, tracking_code, dot, notice=NOTICES.get(tb))


def _act_on_detail(
    request: Request,
    officer: Officer,
    session: Session,
    code: str,
    round_code: str,
    notice: str,
    act: Callable[[], object],
) -> Response:
    """Run ``act`` (a workflow call); on success back to the page, else the page with why."""
    try:
        act()
    except DomainError as exc:
        if not _refused(session, exc):
            return _problem(request, officer, exc, back=_detail_path(code[:40]))
        return detail_response(request, officer, session, code, round_code, status=exc.status_code, error=exc.message)
    return RedirectResponse(_detail_path(code[:40], round_code, notice), 303)


@router.post("/sang-kien/{tracking_code}/chuyen")
def route_form(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    tracking_code: str,
    don_vi: Annotated[str, Form(max_length=64)] = "",
    hanh_dong: Annotated[str, Form(max_length=16)] = "chuyen",
) -> Response:
    if hanh_dong == "giu_lai":
        return _act_on_detail(
            request,
            officer,
            session,
            tracking_code,
            "",
            "giu-lai",
            lambda: routing.keep(session, officer, tracking_code),
        )

    def act() -> None:
        if not don_vi.strip():
            raise InvalidInput("Vui lòng chọn đơn vị trực thuộc nhận sáng kiến", field="unit")
        routing.route(session, officer, tracking_code, don_vi.strip())

    return _act_on_detail(request, officer, session, tracking_code, "", "chuyen", act)


@router.post("/sang-kien/{tracking_code}/cham-diem")
async def score_form(request: Request, officer: PageOfficer, session: PageSession, tracking_code: str) -> Response:
    # The criteria are the campaign's configuration: their fields are read from the whole form.
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    round_code = values.get("dot", "")[:32]

    def act() -> None:
        comment = values.get("nhan_xet", "").strip()
        if len(comment) > MAX_COMMENT:
            raise InvalidInput(f"Nhận xét dài quá {MAX_COMMENT} ký tự", field="comment")
        scores = selection.parse_scores(values, selection.rubric_of(session, officer, tracking_code))
        appraisal.score(session, officer, tracking_code, round_code, scores, comment or None)

    return await run_in_threadpool(
        _act_on_detail, request, officer, session, tracking_code, round_code, "cham-diem", act
    )


@router.post("/sang-kien/{tracking_code}/xac-nhan")
def confirmation_link_form(
    request: Request, officer: PageOfficer, session: PageSession, tracking_code: str, dot: Round = ""
) -> Response:
    s = _settings(request)
    try:
        link = confirmation.create_link(
            session,
            officer,
            tracking_code,
            key=s.confirmation_signing_key(),
            ttl=dt.timedelta(hours=s.confirmation_ttl_hours),
            base_url=s.public_url,
        )
    except DomainError as exc:
        session.rollback()
        return _problem(request, officer, exc, back=_detail_path(tracking_code[:40]))
    # Shown once, on this answer: the officer sends it to the employer (Zalo, email, paper).
    return detail_response(request, officer, session, tracking_code, dot, link=link)


@router.post("/sang-kien/{tracking_code}/de-cu")
def nominate_form(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    tracking_code: str,
    dot: Round = "",
    tu: Annotated[str, Form(max_length=16)] = "",
    chuong_trinh: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    try:
        nominations.nominate(session, officer, tracking_code, dot)
    except DomainError as exc:
        refused = _refused(session, exc)
        if not refused:
            return _problem(request, officer, exc, back=_detail_path(tracking_code[:40]))
        if tu == "de-cu":
            return board_response(
                request, officer, session, chuong_trinh, dot, status=exc.status_code, error=exc.message
            )
        return detail_response(request, officer, session, tracking_code, dot, status=exc.status_code, error=exc.message)
    if tu == "de-cu":
        return RedirectResponse(_board_path(chuong_trinh, dot, "de-cu", tracking_code[:40]), 303)
    return RedirectResponse(_detail_path(tracking_code[:40], dot, "de-cu"), 303)


@router.post("/sang-kien/{tracking_code}/bieu-duong")
def commend_form(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    tracking_code: str,
    dot: Round = "",
    danh_hieu: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    return _act_on_detail(
        request,
        officer,
        session,
        tracking_code,
        dot,
        "bieu-duong",
        lambda: nominations.commend(session, officer, tracking_code, dot, danh_hieu.strip() or None),
    )


# --- the “Đề cử” page ------------------------------------------------------------------------


def board_response(
    request: Request,
    officer: Officer,
    session: Session,
    campaign: str,
    round_code: str,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    try:
        b = board.board(session, officer, campaign or None, round_code or None)
    except DomainError as exc:
        return _problem(request, officer, exc, back=BOARD_PATH)
    return render(
        request,
        "console/de_cu.html",
        officer=officer,
        current="de-cu",
        title="Đề cử",
        status=status,
        b=b,
        error=error,
        notice=notice,
    )


@router.get("/de-cu")
def board_page(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    chuong_trinh: Annotated[str, Query(max_length=64)] = "",
    dot: Annotated[str, Query(max_length=32)] = "",
    tb: Annotated[str, Query(max_length=20)] = "",
    ma: Annotated[str, Query(max_length=24)] = "",
) -> Response:
    notice = NOTICES.get(tb)
    if notice and ma:
        notice = f"{notice} (mã {ma})"
    return board_response(request, officer, session, chuong_trinh, dot, notice=notice)


@router.post("/de-cu/vuot-so-luong")
def override_form(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    chuong_trinh: Annotated[str, Form(max_length=64)] = "",
    dot: Round = "",
    don_vi: Annotated[str, Form(max_length=64)] = "",
    so_luong: Annotated[str, Form(max_length=4)] = "1",
    ly_do: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        extra = int(so_luong) if so_luong.strip().isdigit() else 0
        nominations.override_quota(session, officer, chuong_trinh, dot, don_vi, extra, ly_do)
    except DomainError as exc:
        if not _refused(session, exc):
            return _problem(request, officer, exc, back=BOARD_PATH)
        return board_response(request, officer, session, chuong_trinh, dot, status=exc.status_code, error=exc.message)
    return RedirectResponse(_board_path(chuong_trinh, dot, "vuot"), 303)
