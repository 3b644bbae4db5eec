"""The console's dossiers (“Hồ sơ xét chọn”): the “Tải hồ sơ (PDF/DOCX)” button of the Đề cử
page asks reporting for the unit's dossier of the round (a province may ask for every unit's at
once), and /console/ho-so shows the round's dossiers with their progress and, once rendered,
the download links. A link is review's own (/console/ho-so/<job>/pdf|docx): it writes who
downloaded whose data to the audit log, then sends the browser on to reporting's presigned,
short-lived link. The page reloads itself while a dossier is being made."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.review.accounts.deps import PageOfficer, PageSession
from services.review.accounts.service import unit_names_in_reach
from services.review.accounts.templating import add_templates, render
from services.review.console import board
from services.review.console.pages import _cipher, _problem
from services.review.dossiers import service
from services.review.dossiers.client import ReportingClient
from shared.contracts.dossier import JobState
from shared.errors import DomainError

add_templates(Path(__file__).parent / "templates")
router = APIRouter(prefix="/console", include_in_schema=False)
PATH = "/console/ho-so"
Code = Annotated[str, Form(max_length=64)]


def _client(request: Request) -> ReportingClient:
    client: ReportingClient = request.app.state.reporting_client  # made by the app factory
    return client


@router.post("/ho-so")
def ask_form(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    chuong_trinh: Code,
    dot: Annotated[str, Form(max_length=32)],
    pham_vi: Annotated[str, Form(max_length=16)] = "don-vi",
    don_vi: Code = "",
) -> Response:
    try:
        if pham_vi == "tat-ca":
            dossiers = service.dossiers_of_round(session, officer, _cipher(request), chuong_trinh, dot)
        else:
            dossiers = [service.dossier_of_unit(session, officer, _cipher(request), chuong_trinh, dot, don_vi or None)]
        if dossiers:
            _client(request).ask(officer, dossiers)
    except DomainError as exc:
        return _problem(request, officer, exc, back=f"/console/de-cu?{urlencode({'chuong_trinh': chuong_trinh})}")
    query = {"chuong_trinh": chuong_trinh, "dot": dot, **({} if dossiers else {"tb": "trong"})}
    return RedirectResponse(f"{PATH}?{urlencode(query)}", 303)


@router.get("/ho-so/{job_id}/{fmt}")
def download(request: Request, officer: PageOfficer, session: PageSession, job_id: str, fmt: str) -> Response:
    """The page's download links come here: the audit record first, then the browser goes on
    to the object (a fresh presigned link)."""
    try:
        url = service.download_link(session, officer, _client(request).job(officer, job_id[:64]), fmt)
    except DomainError as exc:
        return _problem(request, officer, exc, back=PATH)
    return RedirectResponse(url, 303)


@router.get("/ho-so")
def dossiers_page(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    chuong_trinh: Annotated[str, Query(max_length=64)] = "",
    dot: Annotated[str, Query(max_length=32)] = "",
    tb: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    try:
        b = board.board(session, officer, chuong_trinh or None, dot or None)
        jobs = []
        if b.round is not None:
            codes = unit_names_in_reach(session, officer)
            seen: set[str] = set()
            # Newest first: the latest dossier of each unit, then the earlier versions.
            for job in _client(request).jobs(officer, b.campaign_code, b.round.code):
                if job.unit_code in codes:
                    jobs.append((job, job.unit_code in seen))
                    seen.add(job.unit_code)
    except DomainError as exc:
        return _problem(request, officer, exc, back="/console/de-cu")
    pending = any(j.state in (JobState.queued, JobState.rendering) for j, _ in jobs)
    return render(
        request,
        "console/ho_so.html",
        officer=officer,
        current="de-cu",
        title="Hồ sơ xét chọn",
        b=b,
        jobs=jobs,
        pending=pending,
        notice="Chưa có sáng kiến nào được giới thiệu lên cấp trên trong đợt này." if tb == "trong" else None,
    )
