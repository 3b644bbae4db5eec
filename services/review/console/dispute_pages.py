"""The initiative page's forms for complaints and disputes (file; resolve with a required
reason) and for the trade-secret mark. Same pattern as selection_pages: the session's CSRF
token, the workflow's rules and messages, 303 back to the page with a fixed notice."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from services.review.accounts.deps import PageOfficer, PageSession
from services.review.console import disputes
from services.review.console.selection_pages import _act_on_detail
from services.review.workflow import routing
from shared.errors import NotFound

router = APIRouter(prefix="/console", include_in_schema=False)
Text = Annotated[str, Form(max_length=20_000)]  # past MAX_BODY: the Vietnamese message, not a bare 422


@router.post("/sang-kien/{tracking_code}/khieu-nai")
def file_form(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    tracking_code: str,
    loai: Annotated[str, Form(max_length=16)] = "",
    noi_dung: Text = "",
) -> Response:
    return _act_on_detail(
        request,
        officer,
        session,
        tracking_code,
        "",
        "khieu-nai",
        lambda: disputes.file(session, officer, tracking_code, loai, noi_dung),
    )


@router.post("/sang-kien/{tracking_code}/khieu-nai/{complaint_id}/giai-quyet")
def resolve_form(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    tracking_code: str,
    complaint_id: str,
    ly_do: Text = "",
) -> Response:
    def act() -> None:
        if not complaint_id.isdigit() or len(complaint_id) > 18:
            raise NotFound("Không tìm thấy khiếu nại", field="complaint")
        disputes.resolve(session, officer, tracking_code, int(complaint_id), ly_do)

    return _act_on_detail(request, officer, session, tracking_code, "", "giai-quyet", act)


@router.post("/sang-kien/{tracking_code}/bi-mat")
def trade_secret_form(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    tracking_code: str,
    bi_mat: Annotated[str, Form(max_length=1)] = "1",
) -> Response:
    secret = bi_mat == "1"
    return _act_on_detail(
        request,
        officer,
        session,
        tracking_code,
        "",
        "bi-mat" if secret else "bo-bi-mat",
        lambda: routing.set_trade_secret(session, officer, tracking_code, secret),
    )
