"""Domain errors carry their HTTP status; one handler (shared.web) renders them.

Services raise these without knowing about HTTP frameworks; the message is Vietnamese because a
person reads it, and never contains personal data in clear.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    code = "loi"

    def __init__(self, message: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra
        self.headers: dict[str, str] = {}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        body.update(self.extra)
        return body


class NotFound(DomainError):
    status_code = 404
    code = "khong_tim_thay"

    def __init__(self, message: str = "Không tìm thấy", **kw: Any) -> None:
        super().__init__(message, **kw)


class Conflict(DomainError):
    status_code = 409
    code = "xung_dot"


class InvalidInput(DomainError):
    status_code = 422
    code = "du_lieu_khong_hop_le"


class ServiceUnavailable(DomainError):
    status_code = 503
    code = "tam_thoi_khong_phuc_vu"

    def __init__(
        self, message: str = "Hệ thống đang bận, vui lòng thử lại sau", *, retry_after: int = 5, **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.headers["Retry-After"] = str(retry_after)


class TooManyRequests(DomainError):
    status_code = 429
    code = "qua_nhieu_yeu_cau"

    def __init__(self, message: str, *, retry_after: int, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.headers["Retry-After"] = str(max(1, retry_after))


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "noi_dung_qua_lon"

    def __init__(self, message: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        # The rest of the body is unread: uvicorn closes the connection instead of reading it
        # all in search of the next request (shared/bodylimit.py answers the same way).
        self.headers["Connection"] = "close"


class Unauthorized(DomainError):
    status_code = 401
    code = "chua_dang_nhap"


class Forbidden(DomainError):
    status_code = 403
    code = "khong_duoc_phep"


class ValidationFailed(InvalidInput):
    """Several fields at once: ``errors`` is a list of {field, message} in Vietnamese."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("Dữ liệu không hợp lệ", errors=errors)
        self.errors = errors
