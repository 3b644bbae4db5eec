"""Random sequences of officers' actions (submit, route down, appraise, confirm, complain,
resolve, nominate, override a quota, commend) on a fresh part of Thanh Hóa's tree, checking
after every step that quotas are never exceeded, that nothing is nominated without the
employer's confirmation and a complete appraisal, and that the audit chain verifies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import text

from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.audit.service import verify_chain
from services.review.workflow import appraisal, nominations, routing, service
from services.review.workflow.models import Case
from shared.errors import DomainError
from tests.review.workflow.factories import FULL_SCORES, THANH_HOA, World, vn

AT = vn(2021, 4, 10)
STEP = dt.timedelta(hours=2)  # each action happens later than the one before (before 16/4: 25 steps)


def test_random_action_sequences_keep_the_invariants(world: World) -> None:
    w = world.as_tenant(THANH_HOA)
    seen = {"nominated": 0, "over_quota": 0}

    class Machine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.tx = w.s.begin_nested()
            district = w.add_unit(w.unit("thanh-hoa"), kind="district", name="LĐLĐ huyện (máy trạng thái)")
            self.units = [district, w.add_unit(district), w.add_unit(district)]
            self.chairs = {u.id: w.officer(u, Role.chu_tich) for u in self.units}
            self.appraisers = {u.id: w.officer(u, Role.tham_dinh) for u in self.units}
            self.province_chair = w.officer(w.unit("thanh-hoa"), Role.chu_tich)
            self.admin = w.officer(w.unit("thanh-hoa"), Role.quan_tri)
            self.district = district
            self.codes: list[str] = []
            self.complaints: list[int] = []
            self.clock = AT

        def tick(self) -> dt.datetime:
            self.clock += STEP
            return self.clock

        def teardown(self) -> None:
            self.tx.rollback()

        def _holder(self, code: str) -> int:
            _sub, case = _case(w, self.admin, code)
            return case.holder_unit_id

        def _pick(self, i: int) -> str:
            return self.codes[i % len(self.codes)]

        def _try(self, fn: Callable[..., object], *args: object, **kw: object) -> None:
            try:
                with w.s.begin_nested():
                    fn(*args, **kw)
            except DomainError:
                pass  # refused by a rule: the invariants must still hold

        @precondition(lambda self: len(self.codes) < 4)  # few initiatives, many acts on each
        @rule()
        def submit(self) -> None:
            self.codes.append(w.submission(self.district).tracking_code)

        @precondition(lambda self: self.codes)
        @rule(i=st.integers(0, 3), j=st.integers(1, 2))
        def route_down(self, i: int, j: int) -> None:
            self._try(routing.route, w.s, self.chairs[self.district.id], self._pick(i), self.units[j].code)

        @precondition(lambda self: self.codes)
        @rule(i=st.integers(0, 3), complete=st.booleans())
        def appraise(self, i: int, complete: bool) -> None:
            code = self._pick(i)
            who = self.appraisers.get(self._holder(code), self.appraisers[self.district.id])
            scores = FULL_SCORES if complete else {"tinh_moi": Decimal(6)}
            self._try(appraisal.score, w.s, who, code, "dot-1", scores, at=self.tick())

        @precondition(lambda self: self.codes)
        @rule(i=st.integers(0, 3))
        def prepare(self, i: int) -> None:
            """A unit's usual day: its appraiser scores every criterion and the employer confirms."""
            self.appraise(i, True)
            self.confirm(i)

        @precondition(lambda self: self.codes)
        @rule(i=st.integers(0, 3))
        def confirm(self, i: int) -> None:
            self._try(w.confirm, self.chairs[self.district.id], self._pick(i), at=self.tick())
            self.tick()  # the employer answers within the hour: the next act comes after

        @precondition(lambda self: self.codes)
        @rule(i=st.integers(0, 3), kind=st.sampled_from(["noi_dung", "ket_qua", "tac_gia"]))
        def complain(self, i: int, kind: str) -> None:
            try:
                with w.s.begin_nested():
                    c = service.file_complaint(
                        w.s, self.admin, self._pick(i), kind=kind, body="Khiếu nại thử", at=self.tick()
                    )
                self.complaints.append(c.id)
            except DomainError:
                pass

        @precondition(lambda self: self.complaints)
        @rule(i=st.integers(0, 3), reason=st.sampled_from(["", "Đã xác minh, không có căn cứ"]))
        def resolve(self, i: int, reason: str) -> None:
            self._try(
                service.resolve_complaint,
                w.s,
                self.admin,
                self.complaints[i % len(self.complaints)],
                reason,
                at=self.tick(),
            )

        @precondition(lambda self: self.codes)
        @rule(i=st.integers(0, 3))
        def nominate(self, i: int) -> None:
            code = self._pick(i)
            chair = self.chairs.get(self._holder(code), self.province_chair)
            try:
                with w.s.begin_nested():
                    out = nominations.nominate(w.s, chair, code, "dot-1", at=self.tick())
                seen["nominated"] += 1
                seen["over_quota"] += out.over_quota
            except DomainError:
                pass

        @rule(reason=st.sampled_from(["", "Có sáng kiến xuất sắc"]))
        def override(self, reason: str) -> None:
            self._try(nominations.override_quota, w.s, self.admin, "75k-2021", "dot-1", self.district.code, 1, reason)

        @precondition(lambda self: self.codes)
        @rule(i=st.integers(0, 3))
        def commend(self, i: int) -> None:
            code = self._pick(i)
            chair = self.chairs.get(self._holder(code), self.province_chair)
            self._try(nominations.commend, w.s, chair, code, "dot-1", at=self.tick())

        @invariant()
        def quotas_are_never_exceeded(self) -> None:
            w.s.flush()
            rows = w.s.execute(
                text(
                    "SELECT q.used, q.max_count, q.extra, (SELECT count(*) FROM review.wf_nominations n "
                    "WHERE n.tenant_id = q.tenant_id AND n.round_id = q.round_id AND n.from_unit_id = q.unit_id) "
                    "FROM review.wf_quota_usage q WHERE q.tenant_id = 38 AND q.unit_id = :u"
                ),
                {"u": self.district.id},
            ).all()
            for used, max_count, extra, nominated in rows:
                assert used == nominated
                assert max_count == 2 and used <= max_count + extra

        @invariant()
        def nothing_is_nominated_without_confirmation_and_appraisal(self) -> None:
            ids = [u.id for u in self.units]
            bad = w.s.execute(
                text(
                    """
                    SELECT n.id FROM review.wf_nominations n
                    WHERE n.tenant_id = 38 AND n.from_unit_id = ANY(:ids) AND (
                        NOT EXISTS (SELECT 1 FROM review.wf_confirmations c WHERE c.tenant_id = 38
                                    AND c.submission_id = n.submission_id AND c.consumed_at IS NOT NULL
                                    AND c.consumed_at <= n.nominated_at)
                        OR NOT EXISTS (SELECT 1 FROM review.wf_scores s WHERE s.tenant_id = 38
                                       AND s.submission_id = n.submission_id AND s.round_id = n.round_id
                                       AND s.unit_id = n.from_unit_id
                                       GROUP BY s.appraiser_id HAVING count(*) = 4)
                        OR EXISTS (SELECT 1 FROM review.wf_complaints k WHERE k.tenant_id = 38
                                   AND k.submission_id = n.submission_id AND k.filed_at <= n.nominated_at
                                   AND (k.resolved_at IS NULL OR k.resolved_at > n.nominated_at)))
                    """
                ),
                {"ids": ids},
            ).all()
            assert bad == []

        @invariant()
        def the_audit_chain_verifies(self) -> None:
            assert verify_chain(w.s, THANH_HOA).ok

    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
    assert seen["nominated"] > 0  # the machine reaches nominations, not only refusals


def _case(w: World, officer: Officer, code: str) -> tuple[object, Case]:
    from services.review.workflow.access import find_case

    return find_case(w.s, officer, code)
