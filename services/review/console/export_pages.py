"""“Xuất dữ liệu”: the export form and the XLSX / CSV downloads (rules in export.py).

GET downloads are masked (a link from the queue or Tiến độ carries their filters); the form
posts with the session's CSRF token, and only a POST may ask for the phones in full — it
writes an audit record, so it must not be a link a browser could prefetch or replay."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from services.review.accounts.deps import PageOfficer, PageSession
from services.review.accounts.principal import Officer
from services.review.accounts.templating import render
from services.review.console import export, service
from services.review.console.pages import _cipher, _int, _problem
from services.review.console.service import QueueFilters, round_options
from services.review.workflow.access import DECIDERS
from shared.contracts.submissions import FIELD_LABELS, GROUP_LABELS, STATUS_LABELS
from shared.errors import DomainError
from shared.timeutil import now

router = APIRouter(prefix="/console", include_in_schema=False)
EXPORT_PATH = "/console/xuat-du-lieu"

Text20 = Annotated[str, Query(max_length=20)]
Text40 = Annotated[str, Query(max_length=40)]


def _filters(
    q: str, linh_vuc: str, nhom: str, trang_thai: str, don_vi: str, chuong_trinh: str, nguon: str, dot: str
) -> QueueFilters:
    """The queue's filters, parsed the way the queue parses them (a value that is not an id
    names nothing: the same 404 as a unit or round outside the reach)."""
    unit_id, round_id = _int(don_vi), _int(dot)
    return QueueFilters(
        search=q,
        field=linh_vuc,
        group=nhom,
        status=trang_thai,
        unit_id=-1 if don_vi.strip() and unit_id is None else unit_id,
        campaign=chuong_trinh,
        source=nguon,
        round_id=-1 if dot.strip() and round_id is None else round_id,
    )


def query_filters(
    q: Annotated[str, Query(max_length=200)] = "",
    linh_vuc: Text40 = "",
    nhom: Text40 = "",
    trang_thai: Text40 = "",
    don_vi: Text20 = "",
    chuong_trinh: Annotated[str, Query(max_length=64)] = "",
    nguon: Annotated[str, Query(max_length=16)] = "",
    dot: Text20 = "",
) -> QueueFilters:
    return _filters(q, linh_vuc, nhom, trang_thai, don_vi, chuong_trinh, nguon, dot)


def form_filters(
    q: Annotated[str, Form(max_length=200)] = "",
    linh_vuc: Annotated[str, Form(max_length=40)] = "",
    nhom: Annotated[str, Form(max_length=40)] = "",
    trang_thai: Annotated[str, Form(max_length=40)] = "",
    don_vi: Annotated[str, Form(max_length=20)] = "",
    chuong_trinh: Annotated[str, Form(max_length=64)] = "",
    nguon: Annotated[str, Form(max_length=16)] = "",
    dot: Annotated[str, Form(max_length=20)] = "",
) -> QueueFilters:
    return _filters(q, linh_vuc, nhom, trang_thai, don_vi, chuong_trinh, nguon, dot)


QueryFilters = Annotated[QueueFilters, Depends(query_filters)]
FormFilters = Annotated[QueueFilters, Depends(form_filters)]
FullPhone = Annotated[str, Form(max_length=4)]


def _options(labels: dict[str, str]) -> list[service.Option]:
    return [service.Option(k, v) for k, v in labels.items()]


def may_unmask(officer: Officer) -> bool:
    return officer.role in DECIDERS


@router.get("/xuat-du-lieu")
def export_form(request: Request, officer: PageOfficer, session: PageSession, filters: QueryFilters) -> Response:
    try:
        total = export.count(session, officer, filters)
    except DomainError as exc:
        return _problem(request, officer, exc, back=EXPORT_PATH)
    options = service.import_options(session, officer)
    return render(
        request,
        "console/xuat_du_lieu.html",
        officer=officer,
        current="sang-kien",
        title="Xuất dữ liệu",
        f=filters,
        total=total,
        units=options.units,
        campaigns=options.campaigns,
        fields=_options(FIELD_LABELS),
        groups=_options(GROUP_LABELS),
        statuses=_options(STATUS_LABELS),
        sources=_options(service.SOURCE_LABELS),
        rounds=round_options(session, officer.tenant_id),
        may_unmask=may_unmask(officer),
        columns=export.header_labels(),
        unit_value=str(filters.unit_id if filters.unit_id is not None else officer.unit_id),
    )


def _download(
    request: Request, officer: Officer, session: PageSession, filters: QueueFilters, fmt: export.Format, full: bool
) -> Response:
    try:
        made = export.export(session, officer, _cipher(request), filters, fmt=fmt, full_phone=full, at=now())
    except DomainError as exc:
        session.rollback()
        return _problem(request, officer, exc, back=EXPORT_PATH)
    if full:
        # The phones leave only once the audit record that names this file is committed.
        session.commit()
    return Response(
        made.body,
        media_type=made.media_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{made.name}\"; filename*=UTF-8''{quote(made.name)}",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/xuat-du-lieu/sang-kien.xlsx")
def xlsx_masked(request: Request, officer: PageOfficer, session: PageSession, filters: QueryFilters) -> Response:
    return _download(request, officer, session, filters, "xlsx", False)


@router.get("/xuat-du-lieu/sang-kien.csv")
def csv_masked(request: Request, officer: PageOfficer, session: PageSession, filters: QueryFilters) -> Response:
    return _download(request, officer, session, filters, "csv", False)


@router.post("/xuat-du-lieu/sang-kien.xlsx")
def xlsx_form(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    filters: FormFilters,
    hien_so_dien_thoai: FullPhone = "",
) -> Response:
    return _download(request, officer, session, filters, "xlsx", hien_so_dien_thoai == "1")


@router.post("/xuat-du-lieu/sang-kien.csv")
def csv_form(
    request: Request,
    officer: PageOfficer,
    session: PageSession,
    filters: FormFilters,
    hien_so_dien_thoai: FullPhone = "",
) -> Response:
    return _download(request, officer, session, filters, "csv", hien_so_dien_thoai == "1")
