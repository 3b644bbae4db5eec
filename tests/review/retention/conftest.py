"""The retention tests' parts: the console's factories (units, officers, submissions, clients),
reporting's (its settings on SeaweedFS, tokens), and a campaign of each test's own that closed in
2021, so its default retention date is long past and nothing else on the worker's database is
due with it (the job is always run narrowed to it)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from services.review.models import Campaign, OrgTree
from shared.config import CommonSettings
from shared.db import make_sessionmaker, tenant_session
from shared.timeutil import VN_TZ, end_of_day
from tests.reporting.conftest import reporting_env, reporting_settings, token_for  # noqa: F401  # fixtures
from tests.review.console.conftest import (  # noqa: F401  # fixtures, requested by name
    _clean_console_keys,
    cipher,
    client,
    client_factory,
    make_officer,
    make_submission,
    make_unit,
    settings_factory,
)
from tests.review.workflow.conftest import workflow_seeded  # noqa: F401

TENANTS = (38, 4)  # Thanh Hóa, Cao Bằng: the tenants the tests put rows in


@pytest.fixture
def campaign(app_engine: Engine, loaded_trees: CommonSettings) -> Iterator[str]:
    """A campaign of this test's own: open 10/3 → 24:00 20/4/2021 on the 2021 tree. Taken away
    afterwards with what the test put in it (its submissions first: they name the campaign)."""
    code = f"ret-{secrets.token_hex(4)}"
    factory = make_sessionmaker(app_engine)
    with tenant_session(factory, None) as s:
        tree = s.query(OrgTree).filter(OrgTree.code == "2021").one()
        s.add(
            Campaign(
                code=code,
                name=f"Chương trình thử lưu trữ {code}",
                tree_id=tree.id,
                opens_at=dt.datetime(2021, 3, 10, tzinfo=VN_TZ),
                closes_at=end_of_day(dt.date(2021, 4, 20)),
            )
        )
    yield code
    with tenant_session(factory, None) as s:
        campaign_id = s.scalar(text("SELECT id FROM review.campaigns WHERE code = :c"), {"c": code})
    for tenant in TENANTS:
        with tenant_session(factory, tenant) as s:
            args = {"t": tenant, "c": campaign_id}
            subs = "SELECT id FROM review.submissions WHERE tenant_id = :t AND campaign_id = :c"
            for table in ("wf_confirmations", "wf_complaints", "wf_cases"):
                s.execute(text(f"DELETE FROM review.{table} WHERE tenant_id = :t AND submission_id IN ({subs})"), args)  # noqa: S608
            s.execute(text("DELETE FROM review.submissions WHERE tenant_id = :t AND campaign_id = :c"), args)
            s.execute(text("DELETE FROM review.campaign_retention WHERE tenant_id = :t AND campaign_id = :c"), args)
    with tenant_session(factory, None) as s:
        s.execute(text("DELETE FROM review.campaigns WHERE id = :c"), {"c": campaign_id})
