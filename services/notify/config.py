from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator

from shared.config import CommonSettings


class NotifySettings(CommonSettings):
    service_name: str = "notify"
    dev_mailbox_dir: str | None = Field(
        None, description="where the local SMTP server of `make run` keeps what it receives (.eml files)"
    )
    mailbox_web_url: str | None = Field(None, description="Mailpit's inbox, when compose runs one")
    smtp_timeout_seconds: float = Field(30.0, gt=0)
    # The CA that signed the mail server's certificate when it is not a public one (a
    # province's own relay): STARTTLS verifies the server against it.
    smtp_ca_file: str | None = None

    # Where the deadlines come from (review's internal API) and where the links in the emails go.
    review_url: str = Field("http://127.0.0.1:8001", description="review's API, as notify reaches it")
    console_url: str = Field("http://127.0.0.1:8001", description="the console's address, as officers reach it")
    # The reminders: days before the deadline's day ("0d": the morning of the day), at this hour
    # in Asia/Ho_Chi_Minh; the parent of an overdue unit hears within this many days after.
    reminder_offsets: str = "7d,3d,1d,0d"
    reminder_morning: dt.time = dt.time(7, 0)
    escalation_days: int = Field(3, ge=1)
    plan_every_seconds: int = Field(60, ge=5)
    send_batch_size: int = Field(50, ge=1, le=1000)
    send_max_retries: int = Field(30, ge=0)
    send_backoff_max_seconds: int = Field(60, ge=1)
    # Request bodies past this are refused (413) before they are read (shared/bodylimit.py): the
    # largest is a template (70,000 characters at most, shared/contracts/mailtemplates.py).
    max_body_bytes: int = Field(1024 * 1024, ge=64 * 1024)

    @field_validator("reminder_offsets")
    @classmethod
    def _offsets(cls, v: str) -> str:
        parts = [p.strip() for p in v.split(",") if p.strip()]
        if not parts or any(not (p.endswith("d") and p[:-1].isdigit()) for p in parts):
            raise ValueError("REMINDER_OFFSETS: danh sách số ngày dạng '7d,3d,1d,0d'")
        return ",".join(parts)

    @property
    def offsets(self) -> tuple[str, ...]:
        return tuple(self.reminder_offsets.split(","))
