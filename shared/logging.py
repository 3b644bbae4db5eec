"""Structured logs for every process: JSON in production, readable lines in dev.

Every record, ours (structlog) or a library's (uvicorn, celery, sqlalchemy via stdlib logging),
goes through the same chain, and the last step before rendering masks anything shaped like an
ID number or phone: personal data never reaches a log in clear, even by mistake.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from shared.pii import mask_text
from shared.timeutil import VN_TZ


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask_value(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool) and 10**8 <= abs(value) < 10**12:
        return mask_text(str(value))
    return value


def _timestamp(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    event_dict["timestamp"] = dt.datetime.now(VN_TZ).isoformat(timespec="milliseconds")
    return event_dict


def mask_pii_processor(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        event_dict[key] = _mask_value(value)
    return event_dict


class PiiMaskingFilter(logging.Filter):
    """For handlers outside our chain (a library that installs its own): mask the final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):
            return True  # a structlog event: mask_pii_processor already ran over every value
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not hide the record
            message = str(record.msg)
        record.msg = mask_text(message)
        record.args = None
        return True


def configure_logging(service: str, *, level: str = "INFO", json: bool = False) -> None:
    """Idempotent: safe to call from every process entry point."""
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _timestamp,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        mask_pii_processor,
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared_processors,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    handler.addFilter(PiiMaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "celery", "alembic"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        # uvicorn turns its access log off (access_log=False, as `sangkien api` asks: the
        # observability middleware counts requests) by stopping that logger's propagation. A
        # service factory calls this after uvicorn configured its worker: keep that choice, or
        # every request would be logged, at a tenth of intake's throughput.
        if name != "uvicorn.access":
            lg.propagate = True
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
