"""Review's client of reporting's dossier API, on behalf of the signed-in officer."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from services.review.accounts.principal import Officer
from shared.contracts.dossier import REPORTING_AUDIENCE, Dossier, DossierJobOut, DossierJobsIn, DossierJobsOut
from shared.serviceclient import Acting, ServiceClient

AWAY = "Dịch vụ tạo hồ sơ tạm thời không phản hồi, vui lòng thử lại sau ít phút"


def acting(officer: Officer) -> Acting:
    return Acting(officer.tenant_id, officer.id, str(officer.unit_id), officer.role.value)


class ReportingClient:
    def __init__(self, base_url: str, key: Callable[[], bytes], *, timeout: float = 10.0) -> None:
        self.http = ServiceClient(
            base_url,
            key,
            audience=REPORTING_AUDIENCE,
            away=AWAY,
            not_found="Không tìm thấy yêu cầu tạo hồ sơ",
            timeout=timeout,
        )

    def ask(self, officer: Officer, dossiers: list[Dossier]) -> list[DossierJobOut]:
        body = DossierJobsIn(dossiers=dossiers).model_dump(mode="json")
        r = self.http.call(acting(officer), "POST", "/api/v1/dossiers", json=body)
        return DossierJobsOut.model_validate_json(r.content).jobs

    def jobs(self, officer: Officer, campaign: str, round_code: str) -> list[DossierJobOut]:
        params = {"campaign": campaign, "round": round_code}
        r = self.http.call(acting(officer), "GET", "/api/v1/dossiers", params=params)
        return DossierJobsOut.model_validate_json(r.content).jobs

    def job(self, officer: Officer, job_id: str) -> DossierJobOut:
        """One job of the officer's tenant, with fresh download links (404 for another's)."""
        r = self.http.call(acting(officer), "GET", f"/api/v1/dossiers/{quote(job_id, safe='')}")
        return DossierJobOut.model_validate_json(r.content)
