"""`sangkien review seed-officers`: demo accounts for Thanh Hóa, Cao Bằng and the Tổng Liên
đoàn, idempotent."""

from __future__ import annotations

import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from services.review.accounts.demo import DEMO_PASSWORD, seed_demo_officers
from shared.config import CommonSettings
from shared.db import make_sessionmaker, tenant_scope
from shared.errors import Forbidden
from tests.conftest import ROOT
from tests.review.accounts.conftest import sign_in


def test_seed_is_idempotent_and_the_accounts_sign_in(
    app_engine: Engine, loaded_trees: CommonSettings, client: TestClient
) -> None:
    scope = tenant_scope(make_sessionmaker(app_engine))
    first = seed_demo_officers(scope, environment="test")
    second = seed_demo_officers(scope, environment="test")
    names = [a.login_name for a in second.accounts]
    assert not any(a.created for a in second.accounts)
    assert [a.login_name for a in first.accounts] == names
    assert "quan-tri.tinh@thanh-hoa" in names and "tham-dinh.huyen@cao-bang" in names
    # The 2021 tree lists no grassroots unions: said, not hidden. (Other tests on this worker's
    # database, and the console's demo seeder, may have added CĐCS: then there are accounts there.)
    with_cdcs = {n.split("@")[1] for n in names if ".cdcs@" in n}
    assert len(names) == 12 + 3 + 3 * len(with_cdcs)  # 3 at the Tổng Liên đoàn
    assert {n for n in names if n.endswith("@tld")} == {"tham-dinh.tld@tld", "chu-tich.tld@tld", "quan-tri.tld@tld"}
    lacking = {"thanh-hoa": "Liên đoàn Lao động tỉnh Thanh Hóa", "cao-bang": "Liên đoàn Lao động tỉnh Cao Bằng"}
    assert second.without_grassroots == [name for code, name in lacking.items() if code not in with_cdcs]
    sign_in(client, "chu-tich.huyen@cao-bang", DEMO_PASSWORD)
    me = client.get("/api/v1/review/me").json()
    assert me["unit_name"] == "Liên đoàn Lao động huyện Hà Quảng" and me["role"] == "chu_tich"


def test_the_national_chair_sees_the_national_inbox(
    app_engine: Engine, loaded_trees: CommonSettings, client: TestClient
) -> None:
    seed_demo_officers(tenant_scope(make_sessionmaker(app_engine)), environment="test")
    sign_in(client, "chu-tich.tld@tld", DEMO_PASSWORD)
    me = client.get("/api/v1/review/me").json()
    assert me["unit_name"] == "Tổng Liên đoàn Lao động Việt Nam" and me["role"] == "chu_tich"
    home = client.get("/console/").text
    assert 'href="/console/toan-quoc"' in home
    assert client.get("/console/toan-quoc").status_code == 200


def test_no_demo_accounts_in_production(app_engine: Engine, loaded_trees: CommonSettings) -> None:
    with pytest.raises(Forbidden):
        seed_demo_officers(tenant_scope(make_sessionmaker(app_engine)), environment="prod")


def test_the_cli_prints_how_to_sign_in(base_env: dict[str, str], loaded_trees: CommonSettings) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "shared.cli", "review", "seed-officers"],
        cwd=ROOT,
        env={**base_env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert "/console/dang-nhap" in r.stdout and DEMO_PASSWORD in r.stdout
    assert "quan-tri.tinh@thanh-hoa" in r.stdout and "Quản trị — Liên đoàn Lao động tỉnh Thanh Hóa" in r.stdout
    assert "chu-tich.tld@tld" in r.stdout and "Tổng Liên đoàn Lao động Việt Nam" in r.stdout
    assert "chưa có công đoàn cơ sở" in r.stdout or ".cdcs@thanh-hoa" in r.stdout
