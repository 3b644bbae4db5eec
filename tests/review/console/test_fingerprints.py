"""`sangkien review fingerprints`: the descriptions the ingester COPYs without a MinHash are
signed in batches, every tenant or the ones named; a second run has nothing left to do."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import text
from sqlalchemy.engine import Engine

from services.review.console.fingerprints import backfill
from shared.config import CommonSettings
from shared.db import make_sessionmaker, tenant_scope, tenant_session
from tests.conftest import ROOT
from tests.review.console.conftest import MakeSubmission, MakeUnit

DESCRIPTION = (
    "Lắp cảm biến nhiệt độ cho lò sấy gỗ để tự động ngắt điện khi quá nhiệt, giảm hao phí điện năng "
    "và tránh cháy nổ trong ca đêm tại phân xưởng chế biến lâm sản của công ty"
)


def _signed(app_engine: Engine, tenant_id: int, ids: list[int]) -> set[int]:
    with tenant_session(make_sessionmaker(app_engine), tenant_id) as s:
        rows = s.scalars(
            text("SELECT submission_id FROM review.text_signatures WHERE tenant_id = :t AND submission_id = ANY(:ids)"),
            {"t": tenant_id, "ids": ids},
        )
        return {int(r) for r in rows}


def test_backfill_signs_in_batches_then_has_nothing_left(
    app_engine: Engine, make_unit: MakeUnit, make_submission: MakeSubmission
) -> None:
    unit = make_unit()
    subs = [make_submission(unit, sign=False, description=DESCRIPTION + f" (bản {i})") for i in range(3)]
    ids = [s.id for s in subs]
    assert _signed(app_engine, unit.tenant_id, ids) == set()
    scope = tenant_scope(make_sessionmaker(app_engine))
    first = backfill(scope, batch=2, tenant_codes=["thanh-hoa"])  # several batches of two
    assert first.signed.get("thanh-hoa", 0) >= 3 and set(first.signed) == {"thanh-hoa"}
    assert _signed(app_engine, unit.tenant_id, ids) == set(ids)
    assert backfill(scope, batch=2, tenant_codes=["thanh-hoa"]).total == 0


def test_the_cli(base_env: dict[str, str], loaded_trees: CommonSettings) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "shared.cli", "review", "fingerprints", "--tenant", "cao-bang"],
        cwd=ROOT,
        env={**base_env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert "Đã tính dấu vân tay cho" in r.stdout and "mô tả sáng kiến" in r.stdout
