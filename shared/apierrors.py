"""The platform's error body, as the OpenAPI documents describe it.

Every refusal leaves the same way (shared/web.py): ``code`` and a Vietnamese ``message``, the
``field`` it is about, the list ``errors`` of a validation failure, and what else the domain
error carries (a nomination's failed conditions, a window's dates). The documents declare it
for the statuses each router can answer, so a client — and schemathesis — knows every answer.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

DESCRIPTIONS = {
    401: "Chưa đăng nhập, phiên đã hết hạn, hoặc mã truy cập không hợp lệ",
    403: "Không được phép (vai trò, mã chống giả mạo yêu cầu)",
    404: "Không tìm thấy (hoặc không thuộc phạm vi được xem)",
    409: "Xung đột với trạng thái hiện tại",
    410: "Đã hết hạn (một đường dẫn có thời hạn)",
    413: "Nội dung gửi lên quá lớn",
    422: "Dữ liệu không hợp lệ (từng trường có thông báo riêng)",
    429: "Quá nhiều yêu cầu (có Retry-After)",
    503: "Tạm thời không phục vụ được (có Retry-After)",
}


class PlatformFieldError(BaseModel):
    field: str
    message: str


class PlatformError(BaseModel):
    # A domain error may carry more (shared.errors.DomainError's extras): allowed, not listed.
    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    field: str | None = None
    errors: list[PlatformFieldError] | None = None


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route or router: these statuses answer with the platform's body."""
    return {s: {"model": PlatformError, "description": DESCRIPTIONS[s]} for s in statuses}
