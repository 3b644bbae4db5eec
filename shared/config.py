"""Typed settings shared by every service.

Each service subclasses :class:`CommonSettings` with its own fields. Nothing here touches the
network or the disk at import time: settings are read when a service's factory asks for them.
"""

from __future__ import annotations

import base64
from functools import cached_property
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def with_credentials(url: str, user: str, password: str | None) -> str:
    """Return ``url`` with its user (and password) replaced: the app and owner roles share a server."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    auth = quote(user, safe="")
    if password:
        auth += ":" + quote(password, safe="")
    netloc = f"{auth}@{host}" if host else f"{auth}@"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def sqlalchemy_url(url: str) -> str:
    """Use psycopg 3 for every PostgreSQL URL, whatever scheme the operator wrote."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    environment: str = Field("dev", description="dev | test | prod; names the bucket and the log format")
    service_name: str = "sangkien"
    log_level: str = "INFO"
    log_json: bool = False

    # PostgreSQL. DATABASE_URL names the server and the database with a user allowed to create
    # roles (used by `sangkien db bootstrap` and migrations). Services connect as the app role,
    # which is neither owner nor superuser nor BYPASSRLS, so row-level security binds them.
    database_url: str = "postgresql://postgres@127.0.0.1:5432/sangkien"
    database_owner_user: str = "sangkien_owner"
    database_owner_password: SecretStr | None = None
    database_app_user: str = "sangkien_app"
    database_app_password: SecretStr | None = None
    app_database_url: str | None = Field(
        None, description="explicit URL for the app role; derived from DATABASE_URL when unset"
    )
    # The review ingester's role: BYPASSRLS so that it can COPY a batch (PostgreSQL refuses COPY
    # FROM into a table under row-level security), and granted nothing but reading the org tree
    # and inserting submissions (migration review 0003). The composite foreign key
    # (tenant_id, unit_id) still keeps every row inside the tenant its unit belongs to.
    database_ingest_user: str = "sangkien_ingest"
    database_ingest_password: SecretStr | None = None
    ingest_database_url: str | None = Field(
        None, description="explicit URL for the ingester's role; derived from DATABASE_URL when unset"
    )
    database_pool_size: int = 10

    redis_url: str = "redis://127.0.0.1:6379/0"

    # Object storage (S3 API: SeaweedFS in dev and tests, MinIO in compose and production).
    s3_endpoint: str = "127.0.0.1:8333"
    s3_access_key: str = "sangkien"
    s3_secret_key: SecretStr = SecretStr("sangkien-dev-secret")
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    s3_bucket: str | None = None

    # SMTP (aiosmtpd in dev and tests, Mailpit in compose, the province's relay in production).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_from: str = "Sáng kiến <no-reply@sangkien.local>"

    # Personal data. Keys live in settings (a Secret in Kubernetes), never in the database.
    pii_encryption_keys: SecretStr = Field(
        SecretStr(""), description="comma-separated 'id:base64key' (32-byte AES keys); the first encrypts"
    )
    pii_hash_key: SecretStr = Field(SecretStr(""), description="base64 key for the keyed hash (HMAC-SHA256)")

    # Celery over Redis: a task not acknowledged this long after delivery (its worker killed)
    # is delivered again. Long tasks must outlive it or be safe to meet a second copy.
    task_visibility_timeout: int = Field(3600, ge=5)
    # How often a worker looks for such tasks (kombu's default sweep is about every 100 s).
    task_restore_interval: int = Field(10, ge=1)
    # The queue of this service's tasks (its own name by default): environments sharing one
    # Redis, or a test's private worker, keep theirs apart.
    task_queue: str | None = None

    # Tokens a service signs for another on behalf of an officer (shared/servicetoken.py). Unset,
    # the key is derived from PII_HASH_KEY (domain-separated), so every environment has one.
    service_token_secret: SecretStr | None = Field(None, description="key signing service-to-service tokens")

    timezone: str = "Asia/Ho_Chi_Minh"

    @field_validator("log_level")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.upper()

    @cached_property
    def bucket(self) -> str:
        return self.s3_bucket or f"sangkien-{self.environment}"

    def _role_url(self, user: str, password: SecretStr | None) -> str:
        return with_credentials(self.database_url, user, password.get_secret_value() if password else None)

    @property
    def owner_database_url(self) -> str:
        return self._role_url(self.database_owner_user, self.database_owner_password)

    @property
    def runtime_database_url(self) -> str:
        return self.app_database_url or self._role_url(self.database_app_user, self.database_app_password)

    @property
    def ingest_runtime_database_url(self) -> str:
        return self.ingest_database_url or self._role_url(self.database_ingest_user, self.database_ingest_password)

    def service_token_key(self) -> bytes:
        from shared.servicetoken import derive_key

        if self.service_token_secret is not None and self.service_token_secret.get_secret_value():
            return derive_key(self.service_token_secret.get_secret_value().encode())
        return derive_key(self.pii_keyring()[2])

    def pii_keyring(self) -> tuple[str, dict[str, bytes], bytes]:
        """(active key id, all keys by id, hash key), decoded and checked."""
        raw = self.pii_encryption_keys.get_secret_value().strip()
        if not raw:
            raise ValueError("PII_ENCRYPTION_KEYS chưa được cấu hình")
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for item in raw.split(","):
            kid, _, b64 = item.strip().partition(":")
            key = base64.b64decode(b64)
            if len(key) != 32 or not kid:
                raise ValueError("PII_ENCRYPTION_KEYS: mỗi khoá phải có dạng 'id:base64' của 32 byte")
            keys[kid] = key
            order.append(kid)
        hash_key = base64.b64decode(self.pii_hash_key.get_secret_value() or "")
        if len(hash_key) < 32:
            raise ValueError("PII_HASH_KEY phải dài ít nhất 32 byte (base64)")
        return order[0], keys, hash_key
