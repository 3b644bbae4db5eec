from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from services.review.workflow.seed import seed_workflows
from shared.config import CommonSettings
from shared.db import make_sessionmaker, tenant_scope
from tests.review.workflow.factories import World


@pytest.fixture(scope="session")
def workflow_seeded(loaded_trees: CommonSettings, app_engine: Engine) -> CommonSettings:
    """Both seed tenants' workflows for the 2021 and the demo campaign, committed once."""
    seed_workflows(tenant_scope(make_sessionmaker(app_engine)), ["75k-2021", "75k-demo"])
    return loaded_trees


@pytest.fixture
def world(conn: Connection, workflow_seeded: CommonSettings) -> Iterator[World]:
    """A session on the test's connection (rolled back after the test)."""
    session = Session(bind=conn, join_transaction_mode="create_savepoint", autoflush=True, expire_on_commit=False)
    try:
        yield World(session, workflow_seeded)
    finally:
        session.close()
