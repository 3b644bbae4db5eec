from __future__ import annotations

from pydantic import Field

from shared.config import CommonSettings


class NotifySettings(CommonSettings):
    service_name: str = "notify"
    dev_mailbox_dir: str | None = Field(
        None, description="where the local SMTP server of `make run` keeps what it receives (.eml files)"
    )
    mailbox_web_url: str | None = Field(None, description="Mailpit's inbox, when compose runs one")
