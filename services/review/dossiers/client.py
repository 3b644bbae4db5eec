"""Review's client of reporting's dossier API. Each call carries a token signed for the officer
(shared/servicetoken.py: their tenant, unit, role; two minutes), so reporting scopes its rows to
that tenant by itself. Reporting away is a 503 with a Vietnamese message, never a 500."""

from __future__ import annotations

import httpx

from services.review.accounts.principal import Officer
from shared.contracts.dossier import REPORTING_AUDIENCE, Dossier, DossierJobOut, DossierJobsIn, DossierJobsOut
from shared.errors import NotFound, ServiceUnavailable
from shared.servicetoken import issue

AWAY = "Dịch vụ tạo hồ sơ tạm thời không phản hồi, vui lòng thử lại sau ít phút"


class ReportingClient:
    def __init__(self, base_url: str, key: bytes, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.timeout = timeout

    def _headers(self, officer: Officer) -> dict[str, str]:
        token = issue(
            self.key,
            tenant_id=officer.tenant_id,
            officer_id=officer.id,
            unit_code=str(officer.unit_id),
            role=officer.role.value,
            aud=REPORTING_AUDIENCE,
        )
        return {"authorization": f"Bearer {token}"}

    def _call(
        self,
        officer: Officer,
        method: str,
        path: str,
        *,
        json: object = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        try:
            r = httpx.request(
                method,
                f"{self.base_url}{path}",
                headers=self._headers(officer),
                timeout=self.timeout,
                json=json,
                params=params,
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(AWAY, retry_after=10) from exc
        if r.status_code == 404:
            raise NotFound("Không tìm thấy yêu cầu tạo hồ sơ")
        if r.status_code >= 400:
            raise ServiceUnavailable(AWAY, retry_after=10)
        return r

    def ask(self, officer: Officer, dossiers: list[Dossier]) -> list[DossierJobOut]:
        body = DossierJobsIn(dossiers=dossiers).model_dump(mode="json")
        return DossierJobsOut.model_validate_json(
            self._call(officer, "POST", "/api/v1/dossiers", json=body).content
        ).jobs

    def jobs(self, officer: Officer, campaign: str, round_code: str) -> list[DossierJobOut]:
        r = self._call(officer, "GET", "/api/v1/dossiers", params={"campaign": campaign, "round": round_code})
        return DossierJobsOut.model_validate_json(r.content).jobs
