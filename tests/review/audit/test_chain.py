"""The audit log: hash-chained per tenant, verifiable from the database or from an export,
append-only for the application, and a tampered row is found by its number."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from services.review.audit import service as audit
from services.review.audit.chain import GENESIS, canonical_json
from shared.config import CommonSettings, sqlalchemy_url
from shared.db import set_tenant
from tests.review.workflow.factories import CAO_BANG, THANH_HOA, World

WHO = audit.Actor(7, "Cán bộ thử")


def _write(s: Session, tenant: int, n: int) -> None:
    for i in range(n):
        audit.record(
            s,
            tenant,
            WHO,
            action="trang_thai",
            entity="submission",
            entity_id=i,
            before={"status": "received"},
            after={"status": "hop_le", "detail": "Hồ sơ hợp lệ – đủ điều kiện"},
        )


def test_chain_verifies_per_tenant_and_exports_recompute(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    start = audit.verify_chain(w.s, THANH_HOA).rows
    _write(w.s, THANH_HOA, 3)
    v = audit.verify_chain(w.s, THANH_HOA)
    assert v.ok and v.rows == start + 3
    w.as_tenant(CAO_BANG)
    _write(w.s, CAO_BANG, 1)
    assert audit.verify_chain(w.s, CAO_BANG).ok
    w.as_tenant(THANH_HOA)
    lines = [json.loads(line) for line in audit.export_jsonl(w.s, THANH_HOA)]
    prev = GENESIS
    for d in lines:  # anyone can check the file without the database
        body = {k: v for k, v in d.items() if k not in ("prev_hash", "hash")}
        assert d["prev_hash"] == prev.hex()
        prev = hashlib.sha256(prev + canonical_json(body)).digest()
        assert d["hash"] == prev.hex()
    assert {d["tenant_id"] for d in lines} == {THANH_HOA}
    rows = list(csv.DictReader(io.StringIO("".join(audit.export_csv(w.s, THANH_HOA)))))
    assert len(rows) == len(lines) and rows[-1]["hash"] == lines[-1]["hash"]


def test_the_app_role_cannot_change_or_delete_the_log(world: World, conn: Connection) -> None:
    w = world.as_tenant(THANH_HOA)
    _write(w.s, THANH_HOA, 1)
    w.s.flush()
    for stmt in (
        "UPDATE review.audit_log SET reason = 'x' WHERE tenant_id = 38",
        "DELETE FROM review.audit_log WHERE tenant_id = 38",
        "TRUNCATE review.audit_log",
    ):
        with pytest.raises(ProgrammingError, match="permission denied"), w.s.begin_nested():
            w.s.execute(text(stmt))


@pytest.fixture
def superuser(migrated: CommonSettings) -> Iterator[Connection]:
    engine = create_engine(sqlalchemy_url(migrated.database_url))
    with engine.connect() as c:
        tx = c.begin()
        yield c
        tx.rollback()
    engine.dispose()


def test_tampering_is_detected_and_the_trigger_binds_even_the_owner(
    superuser: Connection, workflow_seeded: CommonSettings
) -> None:
    set_tenant(superuser, THANH_HOA)
    s = Session(bind=superuser, join_transaction_mode="create_savepoint")
    _write(s, THANH_HOA, 3)
    s.flush()
    last = int(superuser.execute(text("SELECT max(seq) FROM review.audit_log WHERE tenant_id = 38")).scalar_one())
    assert audit.verify_chain(s, THANH_HOA).ok
    # Even a superuser meets the trigger…
    with pytest.raises(Exception, match="chỉ được ghi thêm"), s.begin_nested():
        s.execute(text("UPDATE review.audit_log SET reason = 'x' WHERE tenant_id = 38 AND seq = :n"), {"n": last})
    # …unless it switches triggers off, as an attacker with the server would: then verify finds it.
    s.execute(text("SET LOCAL session_replication_role = replica"))
    s.execute(
        text('UPDATE review.audit_log SET after = \'{"status": "bieu_duong"}\' WHERE tenant_id = 38 AND seq = :n'),
        {"n": last - 1},
    )
    s.expire_all()
    v = audit.verify_chain(s, THANH_HOA)
    assert (v.ok, v.first_bad_seq) == (False, last - 1)
    assert v.problem == f"nội dung bản ghi số {last - 1} đã bị thay đổi"
    s.execute(text("DELETE FROM review.audit_log WHERE tenant_id = 38 AND seq = :n"), {"n": last - 1})
    s.expire_all()
    assert audit.verify_chain(s, THANH_HOA).first_bad_seq == last
    s.close()
