"""Review's client of notify's outbox API, on behalf of the signed-in officer."""

from __future__ import annotations

from collections.abc import Callable

from services.review.accounts.principal import Officer
from services.review.dossiers.client import acting
from shared.contracts.mailtemplates import PreviewOut, TemplateIn, TemplateOut, TemplatesOut
from shared.contracts.reminders import NOTIFY_AUDIENCE, OutboxOut, ReminderOut
from shared.serviceclient import ServiceClient

AWAY = "Dịch vụ nhắc hạn tạm thời không phản hồi, vui lòng thử lại sau ít phút"


class NotifyClient:
    def __init__(self, base_url: str, key: Callable[[], bytes], *, timeout: float = 10.0) -> None:
        self.http = ServiceClient(
            base_url, key, audience=NOTIFY_AUDIENCE, away=AWAY, not_found="Không tìm thấy thư nhắc", timeout=timeout
        )

    def outbox(self, officer: Officer, state: str) -> OutboxOut:
        r = self.http.call(acting(officer), "GET", "/api/v1/reminders", params={"state": state} if state else None)
        return OutboxOut.model_validate_json(r.content)

    def one(self, officer: Officer, reminder_id: int) -> ReminderOut:
        r = self.http.call(acting(officer), "GET", f"/api/v1/reminders/{reminder_id}")
        return ReminderOut.model_validate_json(r.content)

    def resend(self, officer: Officer, reminder_id: int) -> ReminderOut:
        r = self.http.call(acting(officer), "POST", f"/api/v1/reminders/{reminder_id}/resend")
        return ReminderOut.model_validate_json(r.content)

    def templates(self, officer: Officer) -> TemplatesOut:
        r = self.http.call(acting(officer), "GET", "/api/v1/templates")
        return TemplatesOut.model_validate_json(r.content)

    def save_template(self, officer: Officer, name: str, draft: TemplateIn) -> TemplateOut:
        r = self.http.call(acting(officer), "PUT", f"/api/v1/templates/{name}", json=draft.model_dump())
        return TemplateOut.model_validate_json(r.content)

    def reset_template(self, officer: Officer, name: str) -> TemplateOut:
        r = self.http.call(acting(officer), "DELETE", f"/api/v1/templates/{name}")
        return TemplateOut.model_validate_json(r.content)

    def preview_template(self, officer: Officer, name: str, draft: TemplateIn) -> PreviewOut:
        r = self.http.call(acting(officer), "POST", f"/api/v1/templates/{name}/preview", json=draft.model_dump())
        return PreviewOut.model_validate_json(r.content)
