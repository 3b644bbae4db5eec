"""The import-linter contracts hold, and would catch a service importing another."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"]

pytestmark = pytest.mark.xdist_group("architecture")


def test_contracts_are_kept() -> None:
    r = subprocess.run(LINT, cwd=ROOT, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3 kept, 0 broken" in r.stdout


def test_a_service_importing_another_breaks_the_build() -> None:
    bad = ROOT / "services" / "intake" / "_contract_probe.py"
    bad.write_text("import services.review.models  # deliberate violation\n")
    try:
        r = subprocess.run(LINT, cwd=ROOT, capture_output=True, text=True, check=False)
    finally:
        bad.unlink()
    assert r.returncode != 0
    assert "Services never import each other BROKEN" in r.stdout
