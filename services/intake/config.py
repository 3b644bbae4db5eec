from __future__ import annotations

from shared.config import CommonSettings


class IntakeSettings(CommonSettings):
    service_name: str = "intake"
    submissions_stream: str = "submissions"
