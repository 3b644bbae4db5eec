"""Every route review serves is in this catalogue, with the test that shows another tenant's
officer gets 404 for this tenant's objects there, or the reason no tenant's object can be named
through it. A route added without an entry fails here, so "every endpoint has its other-tenant
test" stays true as the console grows."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.review.app import create_app
from services.review.config import ReviewSettings

ROOT = Path(__file__).resolve().parents[2]

# Where the route names another tenant's object: the test module that sends that officer there.
CROSS_TENANT = "tests/review/workflow/test_api.py"
SELECTION = "tests/review/console/test_selection_pages.py"
DISPUTES = "tests/review/console/test_disputes.py"
CONFIG = "tests/review/console/test_configuration_edit.py"
OFFICER_PAGES = "tests/review/accounts/test_officer_pages.py"
ACCOUNTS_API = "tests/review/accounts/test_api.py"
ISOLATION = "tests/review/console/test_isolation.py"
NATIONAL = "tests/review/console/test_national_decisions.py"
INGEST = "tests/review/test_ingest.py"
EXPORT = "tests/review/console/test_export.py"
DOSSIERS = "tests/review/console/test_dossiers.py"
OUTBOX = "tests/review/console/test_outbox_pages.py"
UNIT_EMAILS = "tests/review/console/test_unit_emails.py"
MAIL_TEMPLATES = "tests/review/console/test_mail_templates.py"
WHO_SAW = "tests/review/audit/test_who_saw.py"
RETENTION = "tests/review/retention/test_pages.py"
# Tenant-scoped by a service token, not an officer: another tenant's token lists none of ours.
OBLIGATIONS = "tests/review/workflow/test_obligations.py"

# Where it names none: what it answers with instead.
OWN_TENANT = "answers from the officer's own tenant only (row-level security); the test lists it as empty of ours"
NO_TENANT = "names no tenant's object: public, static, health or the sign-in itself"
ADMIN = "platform operators' Bearer token, not an officer; no tenant's officer reaches it"

CATALOGUE: dict[str, str] = {
    # Platform and public
    "GET /healthz": NO_TENANT,
    "GET /readyz": NO_TENANT,
    "GET /metrics": NO_TENANT,
    "GET /docs": NO_TENANT,
    "GET /docs/init.js": NO_TENANT,
    "GET /docs/{asset}": NO_TENANT,  # Swagger UI's files (shared/apidocs.py)
    "GET /openapi.json": NO_TENANT,
    "GET /api/v1/campaigns": NO_TENANT,
    "GET /api/v1/tenants": NO_TENANT,
    "GET /api/v1/tenants/{code}/units": NO_TENANT,  # the public org tree the portal's pickers show
    "GET /api/v1/tracking/{tracking_code}": INGEST,  # read under the tenant the code names
    "GET /api/v1/admin/dead-letters": ADMIN,
    "POST /api/v1/admin/dead-letters/{letter_id}/replay": ADMIN,
    "POST /api/v1/khieu-nai": DISPUTES,  # the public complaint form
    "GET /api/v1/xac-nhan/{token}": CROSS_TENANT,  # a token moved to another tenant is not ours
    "POST /api/v1/xac-nhan/{token}": CROSS_TENANT,
    "GET /api/v1/internal/obligations": OBLIGATIONS,  # notify's service token; the tenant is the token's
    "GET /xac-nhan/{token}": CROSS_TENANT,
    "POST /xac-nhan/{token}": CROSS_TENANT,
    # Accounts API
    "GET /api/v1/review/me": OWN_TENANT,
    "GET /api/v1/review/units": OWN_TENANT,
    "GET /api/v1/review/officers": OWN_TENANT,
    "POST /api/v1/review/officers": ACCOUNTS_API,  # a unit of the other tenant: 404
    "GET /api/v1/review/officers/{officer_id}": ACCOUNTS_API,
    "POST /api/v1/review/officers/{officer_id}/activate": ACCOUNTS_API,
    "POST /api/v1/review/officers/{officer_id}/deactivate": ACCOUNTS_API,
    "POST /api/v1/review/officers/{officer_id}/password-reset": ACCOUNTS_API,
    # Workflow API
    "GET /api/v1/workflow/submissions": OWN_TENANT,
    "GET /api/v1/workflow/audit/export": OWN_TENANT,
    "GET /api/v1/workflow/audit/verify": OWN_TENANT,
    "GET /api/v1/workflow/national/nominations": CROSS_TENANT,
    "POST /api/v1/workflow/national/nominations/{source_tenant_id}/{source_submission_id}/decide": CROSS_TENANT,
    "GET /api/v1/workflow/submissions/{code}": CROSS_TENANT,
    "GET /api/v1/workflow/submissions/{code}/appraisal": CROSS_TENANT,
    "GET /api/v1/workflow/submissions/{code}/validity": CROSS_TENANT,
    "POST /api/v1/workflow/submissions/{code}/commend": CROSS_TENANT,
    "POST /api/v1/workflow/submissions/{code}/complaints": CROSS_TENANT,
    "POST /api/v1/workflow/submissions/{code}/confirmation-link": CROSS_TENANT,
    "POST /api/v1/workflow/submissions/{code}/nominate": CROSS_TENANT,
    "POST /api/v1/workflow/submissions/{code}/route": CROSS_TENANT,
    "POST /api/v1/workflow/submissions/{code}/scores": CROSS_TENANT,
    "POST /api/v1/workflow/submissions/{code}/trade-secret": CROSS_TENANT,
    "POST /api/v1/workflow/submissions/{code}/unmask": CROSS_TENANT,
    "POST /api/v1/workflow/complaints/{complaint_id}/resolve": CROSS_TENANT,
    "GET /api/v1/workflow/campaigns/{campaign}/rounds/{round_code}/quotas": CROSS_TENANT,
    "GET /api/v1/workflow/campaigns/{campaign}/rounds/{round_code}/ranking": CROSS_TENANT,
    "POST /api/v1/workflow/campaigns/{campaign}/rounds/{round_code}/close": CROSS_TENANT,
    "POST /api/v1/workflow/campaigns/{campaign}/rounds/{round_code}/quotas/{unit}/override": CROSS_TENANT,
    "PUT /api/v1/workflow/campaigns/{campaign}/rounds/{round_code}/deadlines/{deadline_id}": CONFIG,
    "PUT /api/v1/workflow/campaigns/{campaign}/rounds/{round_code}/quota-rules/{rule_id}": CONFIG,
    "PUT /api/v1/workflow/campaigns/{campaign}/rubric": OWN_TENANT,  # edits the officer's own tenant's rubric
    "POST /api/v1/workflow/audit/who-saw": WHO_SAW,  # another tenant's person: none of ours found
    # Console pages
    "GET /console/": OWN_TENANT,
    "GET /console/static/console.css": NO_TENANT,
    "GET /console/dang-nhap": NO_TENANT,
    "POST /console/dang-nhap": NO_TENANT,
    "POST /console/dang-xuat": NO_TENANT,
    "GET /console/sang-kien": ISOLATION,  # ?don_vi= of another tenant: 404; the list shows none of ours
    "GET /console/sang-kien/{tracking_code}": ISOLATION,
    "POST /console/sang-kien/{tracking_code}/chuyen": SELECTION,
    "POST /console/sang-kien/{tracking_code}/cham-diem": SELECTION,
    "POST /console/sang-kien/{tracking_code}/xac-nhan": SELECTION,
    "POST /console/sang-kien/{tracking_code}/de-cu": SELECTION,
    "POST /console/sang-kien/{tracking_code}/bieu-duong": SELECTION,
    "POST /console/sang-kien/{tracking_code}/bi-mat": DISPUTES,
    "POST /console/sang-kien/{tracking_code}/khieu-nai": DISPUTES,
    "POST /console/sang-kien/{tracking_code}/khieu-nai/{complaint_id}/giai-quyet": DISPUTES,
    "GET /console/de-cu": SELECTION,
    "POST /console/de-cu/vuot-so-luong": SELECTION,
    "GET /console/tien-do": ISOLATION,
    "GET /console/nhap-tu-excel": OWN_TENANT,
    "POST /console/nhap-tu-excel": ISOLATION,
    "GET /console/nhap-tu-excel/mau-nhap-sang-kien.xlsx": NO_TENANT,
    "GET /console/xuat-du-lieu": EXPORT,  # ?don_vi= of another tenant: 404
    "GET /console/xuat-du-lieu/sang-kien.xlsx": EXPORT,
    "GET /console/xuat-du-lieu/sang-kien.csv": EXPORT,
    "POST /console/xuat-du-lieu/sang-kien.xlsx": EXPORT,
    "POST /console/xuat-du-lieu/sang-kien.csv": EXPORT,
    "GET /console/cau-hinh": OWN_TENANT,
    "POST /console/cau-hinh/thoi-han": CONFIG,
    "POST /console/cau-hinh/so-luong": CONFIG,
    "POST /console/cau-hinh/thang-diem": OWN_TENANT,
    "GET /console/can-bo": OFFICER_PAGES,
    "POST /console/can-bo": OFFICER_PAGES,
    "POST /console/can-bo/{officer_id}/khoa": OFFICER_PAGES,
    "POST /console/can-bo/{officer_id}/mo-khoa": OFFICER_PAGES,
    "POST /console/can-bo/{officer_id}/dat-lai-mat-khau": OFFICER_PAGES,
    "GET /console/don-vi": UNIT_EMAILS,  # ?don_vi= of another tenant: 404
    "POST /console/don-vi/{unit_id}/email": UNIT_EMAILS,
    "GET /console/thu-nhac": OUTBOX,
    "GET /console/thu-nhac/{reminder_id}": OUTBOX,
    "POST /console/thu-nhac/{reminder_id}/gui-lai": OUTBOX,
    "GET /console/mau-thu-nhac": MAIL_TEMPLATES,  # the officer's tenant's wording only
    "POST /console/mau-thu-nhac/{name}/xem-truoc": MAIL_TEMPLATES,
    "POST /console/mau-thu-nhac/{name}/luu": MAIL_TEMPLATES,
    "POST /console/mau-thu-nhac/{name}/mac-dinh": MAIL_TEMPLATES,
    "GET /console/ho-so": DOSSIERS,
    "POST /console/ho-so": DOSSIERS,
    "GET /console/ho-so/{job_id}/{fmt}": WHO_SAW,  # another tenant's dossier: 404 (reporting's RLS)
    "GET /console/ai-da-xem": WHO_SAW,
    "POST /console/ai-da-xem": WHO_SAW,
    "GET /console/luu-tru": RETENTION,  # the officer's own tenant's dates
    "POST /console/luu-tru/{campaign}": RETENTION,  # sets the officer's own tenant's date only
    "GET /console/toan-quoc": NATIONAL,
    "POST /console/toan-quoc/{source_tenant}/{source_submission}/quyet-dinh": NATIONAL,
}


def _routes(app: FastAPI) -> set[str]:
    found: set[str] = set()

    def walk(routes: list[object], prefix: str) -> None:
        for r in routes:
            methods = getattr(r, "methods", None)
            path = getattr(r, "path", None)
            if methods is not None and path is not None:
                found.update(f"{m} {prefix}{path}" for m in methods - {"HEAD"})
            elif hasattr(r, "original_router"):
                # FastAPI ≥ 0.16x keeps an included router as one entry; its routes are the
                # original router's, under the include's prefix.
                walk(list(r.original_router.routes), prefix + r.include_context.prefix)
            elif hasattr(r, "routes"):
                walk(list(r.routes), prefix + (path or ""))

    walk(list(app.routes), "")
    return found


def test_every_route_is_catalogued_with_its_other_tenant_test() -> None:
    served = _routes(create_app(ReviewSettings()))
    missing = sorted(served - CATALOGUE.keys())
    gone = sorted(CATALOGUE.keys() - served)
    assert not missing, f"routes without an other-tenant entry here: {missing}"
    assert not gone, f"catalogued routes review no longer serves: {gone}"


def test_every_named_test_exists_and_sends_another_tenant_there() -> None:
    for route, where in CATALOGUE.items():
        if where in (OWN_TENANT, NO_TENANT, ADMIN):
            continue
        text = (ROOT / where).read_text(encoding="utf-8")
        assert "404" in text and any(w in text for w in ("stranger", "CAO_BANG", "another", "province")), (route, where)
        # The route's last literal segment is exercised by that module.
        literal = [p for p in route.split(" ", 1)[1].split("/") if p and not p.startswith("{")][-1]
        assert literal in text, (route, where, literal)
