"""Factories for the console's tests: units, officers (the accounts package's factory) and
submissions, all committed (the app reads them in its own transactions). Each test builds its
own small subtree under a district union with fresh codes, so tests never see each other's rows
on the worker's database."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.review.accounts import repository as accounts_repo
from services.review.accounts.models import Role
from services.review.console import repository as repo
from services.review.console.service import signature_values
from services.review.models import Unit, UnitKind
from shared.config import CommonSettings
from shared.contracts.submissions import new_tracking_code
from shared.db import make_sessionmaker, tenant_session
from shared.pii import PiiCipher
from tests.review.accounts.conftest import (  # noqa: F401  # fixtures shared with the accounts tests
    CAO_BANG,
    CODES,
    THANH_HOA,
    Made,
    MakeOfficer,
    _clean_console_keys,
    client,
    client_factory,
    console,
    make_officer,
    settings_factory,
    sign_in,
    signed_in,
)
from tests.review.console.selection_scene import Scene, build_scene
from tests.review.workflow.conftest import workflow_seeded, world  # noqa: F401  # fixtures of the selection tests

DEMO_CAMPAIGN = "75k-demo"


@pytest.fixture(scope="session")
def cipher(settings: CommonSettings) -> PiiCipher:
    return PiiCipher.from_settings(settings)


@dataclass(frozen=True)
class MadeUnit:
    tenant_id: int
    id: int
    code: str
    name: str


MakeUnit = Callable[..., MadeUnit]


# What the workflow wrote about a test's initiatives, child tables first. A nomination took one
# from its unit's counter: a unit that stays (a district of the real tree) gets it back.
_WORKFLOW_CLEANUP = [
    """UPDATE review.wf_quota_usage q SET used = q.used - n.c
       FROM (SELECT round_id, from_unit_id, count(*) AS c FROM review.wf_nominations
             WHERE tenant_id = :t AND submission_id = ANY(:subs) GROUP BY round_id, from_unit_id) n
       WHERE q.tenant_id = :t AND q.round_id = n.round_id AND q.unit_id = n.from_unit_id""",
    "DELETE FROM review.wf_quota_usage WHERE tenant_id = :t AND unit_id = ANY(:ids)",
    """DELETE FROM review.wf_nominations WHERE tenant_id = :t
       AND (submission_id = ANY(:subs) OR from_unit_id = ANY(:ids) OR to_unit_id = ANY(:ids))""",
    "DELETE FROM review.wf_commendations WHERE tenant_id = :t AND (submission_id = ANY(:subs) OR unit_id = ANY(:ids))",
    "DELETE FROM review.wf_scores WHERE tenant_id = :t AND (submission_id = ANY(:subs) OR unit_id = ANY(:ids))",
    "DELETE FROM review.wf_confirmations WHERE tenant_id = :t AND submission_id = ANY(:subs)",
    "DELETE FROM review.wf_complaints WHERE tenant_id = :t AND submission_id = ANY(:subs)",
    "DELETE FROM review.wf_cases WHERE tenant_id = :t AND submission_id = ANY(:subs)",
    "DELETE FROM review.submissions WHERE tenant_id = :t AND id = ANY(:subs)",
]


def remove_units(
    factory: sessionmaker[Session], tenant_id: int, unit_ids: list[int], submission_ids: list[int] | None = None
) -> None:
    """Take a test's units away again with their submissions (signatures cascade), what the
    workflow recorded about them, and their officers, so that other packages' tests on this
    worker's database find the tree as the data has it. ``submission_ids``: initiatives that
    landed elsewhere (a real district) but passed through these units. The audit log stays:
    it is append-only, for tests too."""
    with tenant_session(factory, tenant_id) as s:
        args = {"t": tenant_id, "ids": unit_ids}
        subs = set(submission_ids or [])
        subs |= set(
            s.scalars(text("SELECT id FROM review.submissions WHERE tenant_id = :t AND unit_id = ANY(:ids)"), args)
        )
        subs |= set(
            s.scalars(
                text(
                    "SELECT submission_id FROM review.wf_cases WHERE tenant_id = :t "
                    "AND (holder_unit_id = ANY(:ids) OR own_unit_id = ANY(:ids))"
                ),
                args,
            )
        )
        for stmt in _WORKFLOW_CLEANUP:
            s.execute(text(stmt), {**args, "subs": sorted(subs)})
        s.execute(text("DELETE FROM review.officers WHERE tenant_id = :t AND unit_id = ANY(:ids)"), args)
        # One statement: the parent/child foreign key is checked at its end, when all are gone.
        s.execute(text("DELETE FROM review.units WHERE tenant_id = :t AND id = ANY(:ids)"), args)


@pytest.fixture
def make_unit(app_engine: Engine, loaded_trees: CommonSettings) -> Iterator[MakeUnit]:
    factory = make_sessionmaker(app_engine)
    made: list[MadeUnit] = []

    def make(
        tenant_id: int = THANH_HOA, parent_code: str | None = None, *, name: str | None = None, kind: str = "grassroots"
    ) -> MadeUnit:
        code = f"T-{secrets.token_hex(4)}"
        with tenant_session(factory, tenant_id) as s:
            parent = accounts_repo.unit_by_code(s, tenant_id, "2021", parent_code or CODES[tenant_id])
            assert parent is not None
            u = repo.add_unit(
                s,
                Unit(
                    tenant_id=tenant_id,
                    tree_id=parent.tree_id,
                    code=code,
                    name=name or f"CĐCS thử nghiệm {code}",
                    kind=UnitKind(kind).value,
                    parent_id=parent.id,
                    valid_from=parent.valid_from,
                    is_demo=False,
                ),
            )
            unit = MadeUnit(tenant_id, u.id, code, u.name)
            made.append(unit)
            return unit

    yield make
    for tenant_id in {u.tenant_id for u in made}:
        remove_units(factory, tenant_id, [u.id for u in made if u.tenant_id == tenant_id])


@dataclass(frozen=True)
class MadeSubmission:
    tenant_id: int
    id: int
    tracking_code: str
    unit_id: int


MakeSubmission = Callable[..., MadeSubmission]

_DESCRIPTION = "Cải tiến quy trình làm việc của tổ sản xuất số {n} giúp giảm thời gian chờ và tăng năng suất lao động"


@pytest.fixture
def make_submission(app_engine: Engine, loaded_trees: CommonSettings, cipher: PiiCipher) -> MakeSubmission:
    factory = make_sessionmaker(app_engine)

    def make(unit: MadeUnit, **over: Any) -> MadeSubmission:
        n = secrets.randbelow(10**8)
        id_number = over.pop("id_number", f"0380{secrets.randbelow(10**8):08d}")
        phone = over.pop("phone", f"09{secrets.randbelow(10**8):08d}")
        campaign_code = over.pop("campaign", DEMO_CAMPAIGN)
        sign = over.pop("sign", True)
        with tenant_session(factory, unit.tenant_id) as s:
            campaign = repo.campaign_by_code(s, campaign_code)
            assert campaign is not None
            idn, ph = cipher.seal(id_number, kind="id_number"), cipher.seal(phone, kind="phone")
            values: dict[str, Any] = {
                "tenant_id": unit.tenant_id,
                "tracking_code": new_tracking_code(unit.tenant_id),
                "submission_id": secrets.token_hex(16),
                "campaign_id": campaign.id,
                "unit_id": unit.id,
                "full_name": "Trần Thị Thử",
                "id_number_enc": idn.ciphertext,
                "id_number_hash": idn.digest,
                "phone_enc": ph.ciphertext,
                "phone_hash": ph.digest,
                "idea_group": "doanh_nghiep",
                "field": "san_xuat",
                "title": f"Sáng kiến thử {n}",
                "description": f"Mô tả riêng số {n}: " + " ".join(secrets.token_hex(3) for _ in range(12)),
                "status": "received",
                "submitted_at": dt.datetime.now(dt.UTC),
                "stream_id": "0-1",
                **over,
            }
            new_id = repo.insert_submission(s, values)
            assert new_id is not None
            if sign:
                repo.add_signatures(s, [signature_values(unit.tenant_id, new_id, values["description"])])
            return MadeSubmission(unit.tenant_id, new_id, values["tracking_code"], unit.id)

    return make


def officer_at(make: MakeOfficer, unit: MadeUnit, role: Role = Role.tham_dinh) -> Made:
    """An officer at one of the test's units (the accounts package's factory)."""
    return make(unit.tenant_id, unit.code, role)


@pytest.fixture
def scene(
    app_engine: Engine,
    workflow_seeded: CommonSettings,  # noqa: F811  # the fixture imported above, requested by name
    make_unit: MakeUnit,
    make_officer: MakeOfficer,  # noqa: F811  # the accounts fixture imported above
    make_submission: MakeSubmission,
) -> Scene:
    """A Thanh Hóa district with a CĐCS, officers and three complete initiatives (selection_scene)."""
    return build_scene(app_engine, make_unit, make_officer, make_submission)
