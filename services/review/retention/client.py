"""Review's client of reporting's purge (shared/contracts/retention.py), as the platform's
service for one tenant: no officer acts in the daily job."""

from __future__ import annotations

from collections.abc import Callable

from shared.contracts.dossier import REPORTING_AUDIENCE
from shared.contracts.obligations import SYSTEM_ROLE
from shared.contracts.retention import PurgeOut, purge_path
from shared.serviceclient import Acting, ServiceClient

AWAY = "Dịch vụ hồ sơ (reporting) không phản hồi; tệp của chương trình sẽ được xoá ở lần chạy sau"


class ReportingPurgeClient:
    def __init__(self, base_url: str, key: Callable[[], bytes], *, timeout: float = 120.0) -> None:
        # A province's campaign may hold thousands of objects, deleted one by one.
        self.http = ServiceClient(
            base_url, key, audience=REPORTING_AUDIENCE, away=AWAY, not_found="Không tìm thấy", timeout=timeout
        )

    def purge(self, tenant_id: int, campaign_code: str) -> PurgeOut:
        r = self.http.call(Acting(tenant_id, 0, "", SYSTEM_ROLE), "POST", purge_path(campaign_code))
        return PurgeOut.model_validate_json(r.content)
