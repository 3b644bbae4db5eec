from __future__ import annotations

from pydantic import Field, SecretStr

from shared.config import CommonSettings
from shared.contracts.submissions import INGESTER_GROUP, SUBMISSIONS_STREAM


class ReviewSettings(CommonSettings):
    service_name: str = "review"
    submissions_stream: str = SUBMISSIONS_STREAM
    ingester_group: str = INGESTER_GROUP
    ingester_batch: int = 2000
    ingester_block_ms: int = 1000
    # A read that brings fewer than ingester_batch entries waits this long for more, once: under
    # load, batches of hundreds instead of a few rows per transaction.
    ingester_linger_ms: int = 200
    ingester_min_idle_ms: int = 30_000  # a pending entry idle this long belongs to a dead consumer
    ingester_reclaim_every_seconds: float = 5.0
    ingester_max_deliveries: int = 5
    ingester_metrics_port: int = Field(0, description="Prometheus /metrics of the ingester process; 0: off")
    admin_token: SecretStr | None = Field(None, description="bearer token of the dead-letter administration")
