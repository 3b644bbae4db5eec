from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

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
    # The employer's confirmation links (workflow): HMAC-signed, expiring, one-use. Unset, the key
    # is derived from PII_HASH_KEY (domain-separated), so every environment that runs has one.
    confirmation_key: SecretStr | None = Field(None, description="key signing employer confirmation links")
    confirmation_ttl_hours: int = Field(168, ge=1, le=24 * 60, description="how long a confirmation link lives")
    public_url: str = Field("http://127.0.0.1:8001", description="review's address as people reach it (links)")
    # Reporting renders the dossiers the console asks for (services/review/dossiers).
    reporting_url: str = Field("http://127.0.0.1:8002", description="reporting's API, as review reaches it")
    # How long a console page waits for reporting or notify before saying it is away (503).
    service_call_timeout_seconds: float = Field(10.0, gt=0)
    # Notify keeps the reminders the console's outbox shows (services/review/outbox).
    notify_url: str = Field("http://127.0.0.1:8003", description="notify's API, as review reaches it")
    # Request bodies past this are refused (413) before they are read (shared/bodylimit.py): the
    # console's forms and the JSON API send a few KB; the Excel import has its own, larger
    # limit (console/xlsx.py MAX_BYTES and room for the form around the file).
    max_body_bytes: int = Field(1024 * 1024, ge=64 * 1024)

    def confirmation_signing_key(self) -> bytes:
        from services.review.workflow.tokens import derive_key

        if self.confirmation_key is not None and self.confirmation_key.get_secret_value():
            return derive_key(self.confirmation_key.get_secret_value().encode())
        return derive_key(self.pii_keyring()[2])

    # The officers' console (services/review/accounts). The session cookie is Secure unless a
    # developer on plain http://127.0.0.1 turns it off; production refuses to start without it.
    console_cookie_secure: bool = True
    console_session_idle_seconds: int = Field(1800, ge=60, description="a console session unused this long ends")
    console_session_max_seconds: int = Field(12 * 3600, ge=300, description="and ends this long after sign-in")
    console_login_attempts_per_user: int = Field(5, ge=1, description="failed sign-ins per login name per window")
    console_login_attempts_per_ip: int = Field(30, ge=1, description="failed sign-ins per client address per window")
    console_login_window_seconds: int = Field(900, ge=1)

    @model_validator(mode="after")
    def _secure_cookie_in_prod(self) -> ReviewSettings:
        if self.environment == "prod" and not self.console_cookie_secure:
            raise ValueError("CONSOLE_COOKIE_SECURE chỉ được tắt khi chạy thử trên máy (http)")
        return self
