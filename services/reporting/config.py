from __future__ import annotations

from shared.config import CommonSettings


class ReportingSettings(CommonSettings):
    service_name: str = "reporting"
