"""notify's outbox as the console shows it: the reminders of a tenant, and resending one.

notify's API, for a caller holding a shared.servicetoken for audience "notify" (review's
console signs one for the officer, as for reporting):
    GET  /api/v1/reminders?state=planned|sent|failed|skipped  → OutboxOut (newest first)
    GET  /api/v1/reminders/{id}                                → ReminderOut with the bodies
    POST /api/v1/reminders/{id}/resend                         → ReminderOut (queued again)
Another tenant's reminder is 404.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

NOTIFY_AUDIENCE = "notify"
SEND_TASK = "notify.send_batch"  # Celery task name: (tenant id, [reminder ids])

STATE_LABELS = {
    "planned": "Đang chờ gửi",
    "sent": "Đã gửi",
    "failed": "Gửi không được",
    "skipped": "Không gửi (chưa có địa chỉ)",
}
KIND_LABELS = {"nhac-han": "Nhắc hạn", "qua-han": "Báo quá hạn"}


class ReminderOut(BaseModel):
    id: int
    unit_code: str
    kind: str
    kind_label: str
    offset_code: str
    to_email: str | None
    subject: str
    state: str
    state_label: str
    error: str | None
    attempts: int
    due_at: dt.datetime  # Asia/Ho_Chi_Minh
    send_at: dt.datetime
    sent_at: dt.datetime | None
    body_text: str | None = None  # only for one reminder (the preview)


class OutboxOut(BaseModel):
    items: list[ReminderOut]
    counts: dict[str, int]  # per state, over the whole tenant
