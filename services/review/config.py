from __future__ import annotations

from shared.config import CommonSettings


class ReviewSettings(CommonSettings):
    service_name: str = "review"
    submissions_stream: str = "submissions"
    ingester_group: str = "review-ingester"
