"""The console's pages: queue, paper import, progress (an initiative's page and the selection
forms are in selection_pages.py). Parsing of the query and form, rendering; the rules are in
service.py, importing.py and progress.py. The request's session
(``PageSession``) is scoped to the officer's tenant and commits after the handler."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from services.review import leaderboard
from services.review.accounts.deps import PageOfficer, PageSession
from services.review.accounts.principal import Officer
from services.review.accounts.templating import add_templates, render
from services.review.console import importing, service
from services.review.console.dashboard import charts
from services.review.console.national_progress import national_progress
from services.review.console.progress import progress
from services.review.console.service import QueueFilters
from services.review.console.xlsx import MAX_BYTES, UnreadableFile, template
from services.review.workflow.models import NATIONAL_TENANT_ID
from shared.errors import DomainError, NotFound
from shared.pii import PiiCipher
from shared.timeutil import local, now

add_templates(Path(__file__).parent / "templates")
router = APIRouter(prefix="/console", include_in_schema=False)
QUEUE_PATH = "/console/sang-kien"
IMPORT_PATH = "/console/nhap-tu-excel"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cipher(request: Request) -> PiiCipher:
    cipher: PiiCipher | None = getattr(request.app.state, "console_cipher", None)
    if cipher is None:
        cipher = request.app.state.console_cipher = PiiCipher.from_settings(request.app.state.settings)
    return cipher


def _problem(request: Request, officer: Officer, exc: DomainError, *, back: str = QUEUE_PATH) -> Response:
    # 404 for what is outside the officer's reach or tenant, exactly as for what does not exist.
    return render(
        request,
        "console/thong_bao.html",
        officer=officer,
        status=exc.status_code,
        title="Không thực hiện được",
        message=exc.message,
        back_href=back,
        back_label="Quay lại",
    )


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


@router.get("/sang-kien")
def queue_page(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    q: Annotated[str, Query(max_length=200)] = "",
    linh_vuc: Annotated[str, Query(max_length=40)] = "",
    nhom: Annotated[str, Query(max_length=40)] = "",
    trang_thai: Annotated[str, Query(max_length=40)] = "",
    don_vi: Annotated[str, Query(max_length=20)] = "",
    chuong_trinh: Annotated[str, Query(max_length=64)] = "",
    nguon: Annotated[str, Query(max_length=16)] = "",
    dot: Annotated[str, Query(max_length=20)] = "",
    trang: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    unit_id = _int(don_vi)
    if don_vi.strip() and unit_id is None:
        unit_id = -1  # not an id: answered like any unit outside the reach
    round_id = _int(dot)
    if dot.strip() and round_id is None:
        round_id = -1  # likewise: no such round
    filters = QueueFilters(
        search=q,
        field=linh_vuc,
        group=nhom,
        status=trang_thai,
        unit_id=unit_id,
        campaign=chuong_trinh,
        source=nguon,
        round_id=round_id,
        page=trang,
    )
    try:
        page = service.queue(session, officer, filters)
    except DomainError as exc:
        return _problem(request, officer, exc)

    def page_query(n: int) -> str:
        params = {k: v for k, v in request.query_params.items() if k != "trang" and v}
        return urlencode({**params, "trang": n})

    return render(
        request,
        "console/sang_kien.html",
        officer=officer,
        current="sang-kien",
        title="Sáng kiến",
        p=page,
        page_query=page_query,
        # The export page opens with the queue's filters (the page number is the queue's own).
        export_query=urlencode({k: v for k, v in request.query_params.items() if k != "trang" and v}),
    )


def _import_page(
    request: Request,
    officer: Officer,
    session: PageSession,
    *,
    status: int = 200,
    error: str | None = None,
    result: importing.ImportResult | None = None,
    unit_id: int | None = None,
    campaign: str = "",
) -> Response:
    options = service.import_options(session, officer)
    return render(
        request,
        "console/nhap_excel.html",
        officer=officer,
        current="sang-kien",
        title="Nhập sáng kiến từ Excel",
        status=status,
        error=error,
        result=result,
        units=options.units,
        campaigns=options.campaigns,
        unit_id=str(unit_id if unit_id is not None else officer.unit_id),
        campaign=campaign or (options.campaigns[0].value if options.campaigns else ""),
        max_mb=MAX_BYTES // (1024 * 1024),
    )


@router.get("/nhap-tu-excel")
def import_form(request: Request, officer: PageOfficer, session: PageSession) -> Response:
    return _import_page(request, officer, session)


@router.get("/nhap-tu-excel/mau-nhap-sang-kien.xlsx")
def import_template(officer: PageOfficer) -> Response:
    return Response(
        template(),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="mau-nhap-sang-kien.xlsx"', "Cache-Control": "no-store"},
    )


@router.post("/nhap-tu-excel")
async def import_upload(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    tep: Annotated[UploadFile, File()],
    don_vi: Annotated[str, Form(max_length=20)] = "",
    chuong_trinh: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    unit_id = _int(don_vi)
    data = await tep.read(MAX_BYTES + 1)
    try:
        if unit_id is None:
            raise DomainError("Vui lòng chọn đơn vị nhận sáng kiến", field="unit_id")
        result = importing.import_file(
            session, officer, _cipher(request), data=data, unit_id=unit_id, campaign_code=chuong_trinh
        )
    except UnreadableFile as exc:
        return _import_page(
            request, officer, session, status=422, error=str(exc), unit_id=unit_id, campaign=chuong_trinh
        )
    except DomainError as exc:
        if exc.status_code == 404:
            return _problem(request, officer, exc, back=IMPORT_PATH)
        return _import_page(
            request, officer, session, status=exc.status_code, error=exc.message, unit_id=unit_id, campaign=chuong_trinh
        )
    return _import_page(request, officer, session, result=result, unit_id=unit_id, campaign=chuong_trinh)


@router.get("/tien-do")
def progress_page(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    don_vi: Annotated[str, Query(max_length=20)] = "",
    chuong_trinh: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    if officer.tenant_id == NATIONAL_TENANT_ID:
        return _national_progress(request, officer, don_vi, chuong_trinh)
    unit_id = _int(don_vi)
    if don_vi.strip() and unit_id is None:
        unit_id = -1
    try:
        p = progress(session, officer, unit_id=unit_id, campaign_code=chuong_trinh)
    except DomainError as exc:
        return _problem(request, officer, exc, back="/console/tien-do")
    drawn = charts(p, local(now()).date())
    return render(
        request, "console/tien_do.html", officer=officer, current="tien-do", title="Tiến độ", p=p, charts=drawn
    )


def _national_progress(request: Request, officer: Officer, don_vi: str, chuong_trinh: str) -> Response:
    """The Tổng Liên đoàn's view: the published leaderboard (its tenant has no province's rows)."""
    if don_vi.strip():  # no unit of any province can be named from here
        return _problem(request, officer, NotFound("Không tìm thấy đơn vị", field="unit_id"), back="/console/tien-do")
    snapshot = leaderboard.read(request.app.state.redis_sync)
    try:
        n = national_progress(snapshot, chuong_trinh) if snapshot and snapshot.campaigns else None
    except DomainError as exc:
        return _problem(request, officer, exc, back="/console/tien-do")
    return render(request, "console/tien_do_toan_quoc.html", officer=officer, current="tien-do", title="Tiến độ", n=n)
