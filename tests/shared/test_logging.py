from __future__ import annotations

import logging

import pytest
import structlog

from shared.logging import configure_logging, get_logger

ID = "001203004567"
PHONE = "0912345678"


def test_no_personal_data_reaches_the_log(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("test", level="INFO", json=True)
    structlog.contextvars.bind_contextvars(request_id="r-1")
    get_logger("t").info(f"nhận hồ sơ CCCD {ID}", phone=PHONE, nested={"so": [PHONE]}, number=912345678)
    logging.getLogger("uvicorn.error").warning("client sent %s and %s", ID, "0912.345.678")
    logging.getLogger("some.library").error(f"failed for {PHONE}")
    out = capsys.readouterr().out
    structlog.contextvars.clear_contextvars()
    assert out.count("\n") >= 3, out
    for clear in (ID, PHONE, "912345678", "0912.345.678"):
        assert clear not in out
    assert "*********567" in out and "*******678" in out
    assert '"request_id": "r-1"' in out
    assert "+07:00" in out  # people read log times in Asia/Ho_Chi_Minh


def test_broken_format_string_still_logs(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("test", level="INFO", json=False)
    logging.getLogger("x").warning("bad %s %s", ID)
    out = capsys.readouterr()
    assert ID not in out.out + out.err
