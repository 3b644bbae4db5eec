"""The demo seeder for `make run`: idempotent, marked as demo, refused in production."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from services.review.console.demo import DEMO_EMAIL_DOMAIN, PER_TENANT, seed_demo_console
from shared.config import CommonSettings
from shared.db import make_sessionmaker, tenant_scope, tenant_session
from shared.errors import Forbidden
from shared.pii import PiiCipher
from tests.conftest import ROOT
from tests.review.console.conftest import CAO_BANG, THANH_HOA, remove_units

pytestmark = pytest.mark.xdist_group("console-demo")


@pytest.fixture(autouse=True)
def _remove_demo_data(app_engine: Engine, loaded_trees: CommonSettings) -> Iterator[None]:
    """The seeder's CĐCS, officers, initiatives and units' addresses are taken away after each
    test: other tests on this worker's database expect the tree as data/orgtree has it."""
    yield
    factory = make_sessionmaker(app_engine)
    for tenant in (THANH_HOA, CAO_BANG):
        with tenant_session(factory, tenant) as s:
            s.execute(
                text("UPDATE review.units SET email = NULL WHERE tenant_id = :t AND email LIKE :demo"),
                {"t": tenant, "demo": f"%@{DEMO_EMAIL_DOMAIN}"},
            )
            ids = list(s.scalars(text("SELECT id FROM review.units WHERE is_demo")))
            s.execute(text("DELETE FROM review.submissions WHERE source = 'demo'"))
        if ids:
            remove_units(factory, tenant, ids)


def test_seeder_is_idempotent(app_engine: Engine, loaded_trees: CommonSettings, cipher: PiiCipher) -> None:
    scope = tenant_scope(make_sessionmaker(app_engine))
    now = dt.datetime.now(dt.UTC)
    first = seed_demo_console(scope, cipher, environment="dev", now=now)
    second = seed_demo_console(scope, cipher, environment="dev", now=now)
    assert first.units_created == 8 and second.units_created == 0
    assert first.submissions_created == 2 * PER_TENANT
    assert second.submissions_created == 0
    assert first.officers is not None
    assert any(a.login_name.endswith(".cdcs@thanh-hoa") for a in first.officers.accounts)
    factory = make_sessionmaker(app_engine)
    for tenant in (THANH_HOA, CAO_BANG):
        with tenant_session(factory, tenant) as s:
            n = s.scalar(text("SELECT count(*) FROM review.submissions WHERE source = 'demo'"))
            units = s.execute(text("SELECT name, kind FROM review.units WHERE is_demo")).all()
            people = s.scalar(text("SELECT count(*) FROM review.submissions WHERE search_text LIKE 'nguyen van an %'"))
        assert n == PER_TENANT
        assert len(units) == 4 and all(u.name.endswith("(dữ liệu mẫu)") and u.kind == "grassroots" for u in units)
        assert people == 2  # the same person twice, for the duplicate badge


def test_every_unit_without_an_address_gets_a_demo_one(
    app_engine: Engine, loaded_trees: CommonSettings, cipher: PiiCipher
) -> None:
    """So that the reminders of `make run` reach the local inbox; an address set by hand stays."""
    factory = make_sessionmaker(app_engine)
    own = "van-phong@ldld-caobang.org.vn"
    count = "SELECT count(*) FROM review.units WHERE tenant_id = :t"
    with tenant_session(factory, CAO_BANG) as s:
        s.execute(
            text("UPDATE review.units SET email = :e WHERE tenant_id = :t AND code = 'H045'"), {"e": own, "t": CAO_BANG}
        )
        assert s.scalar(text(count + " AND email IS NULL"), {"t": CAO_BANG}) > 0  # the data has none
    scope = tenant_scope(factory)
    try:
        first = seed_demo_console(scope, cipher, environment="dev", now=dt.datetime.now(dt.UTC))
        second = seed_demo_console(scope, cipher, environment="dev", now=dt.datetime.now(dt.UTC))
        assert second.emails_set == 0
        filled = 0
        for tenant in (THANH_HOA, CAO_BANG):
            with tenant_session(factory, tenant) as s:
                assert s.scalar(text(count + " AND email IS NULL"), {"t": tenant}) == 0
                rows = s.execute(text("SELECT code, email FROM review.units WHERE tenant_id = :t"), {"t": tenant})
                for code, email in rows:
                    if email != own:
                        assert email == f"{code.lower()}@demo.congdoan.vn", (code, email)
                        filled += 1
        assert first.emails_set == filled  # the demo CĐCS included, made in the same run
        with tenant_session(factory, CAO_BANG) as s:
            kept = s.scalars(
                text("SELECT email FROM review.units WHERE tenant_id = :t AND code = 'H045'"), {"t": CAO_BANG}
            )
            assert set(kept) == {own}  # Hà Quảng's own address, kept
            assert s.scalar(text(count + " AND email = 'demo-h045-01@demo.congdoan.vn'"), {"t": CAO_BANG}) == 1
    finally:
        with tenant_session(factory, CAO_BANG) as s:
            s.execute(
                text("UPDATE review.units SET email = NULL WHERE tenant_id = :t AND email = :e"),
                {"t": CAO_BANG, "e": own},
            )


def test_refused_in_production(app_engine: Engine, loaded_trees: CommonSettings, cipher: PiiCipher) -> None:
    with pytest.raises(Forbidden):
        seed_demo_console(
            tenant_scope(make_sessionmaker(app_engine)), cipher, environment="prod", now=dt.datetime.now(dt.UTC)
        )


def test_the_cli_seeds_and_prints_the_cdcs_accounts(base_env: dict[str, str], loaded_trees: CommonSettings) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "shared.cli", "review", "seed-demo"],
        cwd=ROOT,
        env={**base_env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert "Dữ liệu mẫu của bàn làm việc" in r.stdout
    assert "chu-tich.cdcs@thanh-hoa" in r.stdout and "(dữ liệu mẫu)" in r.stdout
