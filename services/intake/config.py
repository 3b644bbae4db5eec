from __future__ import annotations

from pydantic import Field

from shared.config import CommonSettings
from shared.contracts.submissions import SUBMISSIONS_STREAM


class IntakeSettings(CommonSettings):
    service_name: str = "intake"
    submissions_stream: str = SUBMISSIONS_STREAM
    # Which campaign the portal serves; empty: the open one, else the next, else the last closed.
    intake_campaign: str | None = None
    public_url: str = Field("http://127.0.0.1:8000", description="the portal's address printed in QR codes")
    review_url: str = Field("http://127.0.0.1:8001", description="review API, for tracking codes no longer in Redis")

    max_body_bytes: int = 16_384  # a full form with 1,000 characters of Vietnamese is ~5 KB
    # Above this many entries waiting in the stream, intake answers 503: the ingester is behind
    # (PostgreSQL down?) and Redis memory is finite. ~1.5 KB each: 500k ≈ 750 MB.
    stream_high_water: int = 500_000
    retry_after_seconds: int = 5

    rate_window_seconds: int = 60
    rate_limit_per_ip: int = 600  # a factory's workers share one NAT address at the deadline
    rate_limit_per_phone: int = 10
    # One person (the keyed hash of the ID number): a flood that changes the phone each time.
    rate_limit_per_id_number: int = 10
    # Look-ups per address and window: a miss in Redis costs review a query, so guessing codes
    # must not be free.
    rate_limit_tracking_per_ip: int = 60
    trusted_proxies: str = Field(
        "", description="comma-separated addresses or CIDRs whose X-Forwarded-For is believed (the ingress)"
    )

    status_ttl_days: int = 180  # the tracking record in Redis; review answers after that
    idempotency_ttl_seconds: int = 86_400
    directory_refresh_seconds: float = 10.0
    max_batch: int = 512  # stream appends gathered into one round trip
    batches_in_flight: int = 2  # round trips to Redis at once per worker, each on its own connection
