"""Cases: what an officer sees of an initiative (trade secrets masked outside their own unit),
routing down the tree, status changes (each one in the audit log), validity, complaints and
the audited unmasking of personal data. Functions only flush; the request commits."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from services.review.accounts.principal import Officer
from services.review.audit import service as audit
from services.review.models import Submission, Unit
from services.review.workflow import repository as repo
from services.review.workflow.access import (
    DECIDERS,
    EVERYONE,
    actor,
    find_case,
    record_act,
    require_role,
    sees_unit,
)
from services.review.workflow.models import COMPLAINT_KIND_LABELS, Case, Complaint, Round
from services.review.workflow.schemas import CaseOut, ComplaintOut, FailureOut, PersonalDataOut, ValidityOut
from services.review.workflow.tracking import note_change
from services.review.workflow.validity import Facts, Failure, failures, parse_applied
from shared.contracts.submissions import STATUS_LABELS, SubmissionStatus
from shared.errors import Conflict, InvalidInput, NotFound
from shared.pii import PiiCipher
from shared.text import multiline, one_line
from shared.timeutil import now

S = SubmissionStatus


# --- status ----------------------------------------------------------------------------------


def change_status(
    session: Session, sub: Submission, case: Case, new: str, who: audit.Actor, *, detail: str | None = None
) -> None:
    """Every change of state goes to the audit log (the tracking page reads its history from
    there). While a complaint freezes the initiative it stays “tạm dừng”; the state it will
    return to is kept instead."""
    if case.status_before_freeze is not None and new != S.tam_dung:
        case.status_before_freeze = new
        session.flush()
        return
    old = sub.status
    repo.set_status(session, sub, new)
    note_change(session, sub.tracking_code)
    audit.record(
        session,
        sub.tenant_id,
        who,
        action="trang_thai",
        entity="submission",
        entity_id=sub.id,
        before={"status": old},
        after={"status": new, "detail": detail},
    )


# --- what an officer sees --------------------------------------------------------------------


def _names(session: Session, case: Case) -> dict[int, Unit]:
    return repo.units_by_ids(session, case.tenant_id, [case.holder_unit_id, case.own_unit_id])


def case_out(session: Session, officer: Officer, sub: Submission, case: Case) -> CaseOut:
    units = _names(session, case)
    masked = case.trade_secret and officer.unit_id != case.own_unit_id
    base = CaseOut(
        tracking_code=sub.tracking_code,
        status=sub.status,
        status_label=STATUS_LABELS.get(sub.status, sub.status),
        title=sub.title,
        benefit=sub.benefit,
        awards=list(case.awards),
        trade_secret=case.trade_secret,
        masked=masked,
        holder_unit=units[case.holder_unit_id].code,
        holder_unit_name=units[case.holder_unit_id].name,
    )
    if masked:
        return base
    return base.model_copy(
        update={
            "field": sub.field,
            "idea_group": sub.idea_group,
            "description": sub.description,
            "author": sub.full_name,
            "birth_year": sub.birth_year,
            "position": sub.position,
            "workplace": sub.workplace,
            "applied_from": sub.applied_from,
            "own_unit": units[case.own_unit_id].code,
            "own_unit_name": units[case.own_unit_id].name,
            "submitted_at": sub.submitted_at,
        }
    )


def get_case(session: Session, officer: Officer, code: str) -> CaseOut:
    sub, case = find_case(session, officer, code)
    out = case_out(session, officer, sub, case)
    if not out.masked:  # the author's name, birth year and workplace: audited as the console's page is
        record_act(
            session,
            officer,
            action="xem_trang_sang_kien",
            entity="submission_page",
            entity_id=sub.id,
            after={"via": "api"},
            subjects=[sub.id],
        )
    return out


def list_cases(session: Session, officer: Officer, *, limit: int = 200) -> list[CaseOut]:
    """Initiatives held by the officer's unit or any unit below it."""
    units = repo.subtree(session, officer.tenant_id, officer.unit_id)
    out = []
    for sub, case in repo.cases_held_in(session, officer.tenant_id, units, limit=limit):
        out.append(case_out(session, officer, sub, case or repo.ensure_case(session, sub, lock=False)))
    return out


# --- validity --------------------------------------------------------------------------------


def due_at(session: Session, sub: Submission, case: Case, rnd: Round, level_code: str) -> dt.datetime | None:
    """The earliest deadline of the round for ``level_code`` that covers the holder's unit."""
    chain = set(repo.ancestors(session, sub.tenant_id, case.holder_unit_id))
    dues = [
        d.due_at
        for d in repo.deadlines(session, sub.tenant_id, rnd.id, level_code)
        if d.scope_unit_id is None or d.scope_unit_id in chain
    ]
    return min(dues) if dues else None


def check_validity(
    session: Session, sub: Submission, case: Case, *, at: dt.datetime, due: dt.datetime | None
) -> list[Failure]:
    campaign = repo.campaign(session, sub.campaign_id)
    assert campaign is not None
    confirmed = repo.latest_confirmed(session, sub.tenant_id, sub.id)
    applied = confirmed.applied_on if confirmed is not None else parse_applied(sub.applied_from)
    values = {k: getattr(sub, k) for k in ("full_name", "birth_year", "position", "workplace", "title")}
    values.update(description=sub.description, benefit=sub.benefit)
    return failures(
        Facts(
            at=at,
            submitted_at=sub.submitted_at,
            portal_closes_at=campaign.closes_at,
            due_at=due,
            values=values,
            confirmed=confirmed is not None,
            applied_on=applied,
            applied_window=(campaign.applied_from, campaign.applied_to),
            open_complaint_kinds=[c.kind for c in repo.open_complaints(session, sub.tenant_id, sub.id)],
        )
    )


def next_level(session: Session, sub: Submission, case: Case) -> tuple[str, str, Unit | None]:
    """(level of the holder, level it recommends to, parent unit or None for the TLĐ)."""
    holder = repo.unit(session, sub.tenant_id, case.holder_unit_id)
    assert holder is not None
    levels = repo.levels(session, sub.tenant_id, sub.campaign_id)
    mine = next((lv for lv in levels if holder.kind in lv.unit_kinds), None)
    if mine is None:
        raise Conflict(f"Chưa cấu hình cấp xét chọn cho {holder.name}")
    above = [lv for lv in levels if lv.ordinal > mine.ordinal]
    if not above:
        raise Conflict(f"{holder.name} là cấp xét chọn cao nhất")
    parent = None if holder.parent_id is None else repo.unit(session, sub.tenant_id, holder.parent_id)
    return mine.code, above[0].code, parent


def round_of(session: Session, sub: Submission, round_code: str, *, lock: bool = False) -> Round:
    rnd = repo.round_by_code(session, sub.tenant_id, sub.campaign_id, round_code, lock=lock)
    if rnd is None:
        raise NotFound(f"Không có đợt “{round_code}” trong chương trình này", field="round")
    return rnd


def validity(
    session: Session, officer: Officer, code: str, round_code: str, *, at: dt.datetime | None = None
) -> ValidityOut:
    """The conditions of a valid dossier for the next level, each failing one named. Records
    hợp lệ / chưa hợp lệ when the unit holding it asks."""
    at = at or now()
    sub, case = find_case(session, officer, code, lock=True)
    require_role(officer, EVERYONE)
    rnd = round_of(session, sub, round_code)
    _, target, _ = next_level(session, sub, case)
    found = check_validity(session, sub, case, at=at, due=due_at(session, sub, case, rnd, target))
    if case.holder_unit_id == officer.unit_id and sub.status in (
        S.received,
        S.dang_tham_dinh,
        S.hop_le,
        S.khong_hop_le,
    ):
        new = S.khong_hop_le if found else S.hop_le
        if new != sub.status:
            change_status(session, sub, case, new, actor(officer), detail=_failure_text(found))
    return ValidityOut(
        tracking_code=sub.tracking_code,
        valid=not found,
        failures=[FailureOut(code=f.code, label=f.label, detail=f.detail) for f in found],
    )


def _failure_text(found: list[Failure]) -> str | None:
    return "; ".join(f.label for f in found) or None


# --- complaints and disputes -----------------------------------------------------------------


def _freeze(session: Session, sub: Submission, case: Case, who: audit.Actor) -> None:
    if case.status_before_freeze is None:
        previous = sub.status
        change_status(session, sub, case, S.tam_dung, who, detail="Đang giải quyết khiếu nại, tranh chấp")
        case.status_before_freeze = previous
        session.flush()


def file_complaint(
    session: Session,
    officer: Officer,
    code: str,
    *,
    kind: str,
    body: str,
    filer_name: str | None = None,
    at: dt.datetime | None = None,
) -> ComplaintOut:
    sub, case = find_case(session, officer, code, lock=True)
    require_role(officer, EVERYONE)
    return _file(session, sub, case, actor(officer), kind, body, filer_name or officer.name, officer.id, at or now())


def file_public_complaint(
    session: Session, tenant_id: int, code: str, *, kind: str, body: str, filer_name: str, at: dt.datetime | None = None
) -> ComplaintOut:
    """Anyone, where the campaign allows it (wf_settings.complaints_from = 'cong_khai')."""
    sub = repo.submission_by_code(session, tenant_id, code)
    allowed = sub is not None and (conf := repo.settings(session, tenant_id, sub.campaign_id)) is not None
    if sub is None or not allowed or conf is None or conf.complaints_from != "cong_khai":
        raise NotFound("Không tìm thấy sáng kiến nhận khiếu nại công khai", field="tracking_code")
    case = repo.ensure_case(session, sub, lock=True)
    who = audit.Actor(None, f"người khiếu nại: {filer_name}")
    return _file(session, sub, case, who, kind, body, filer_name, None, at or now())


def _file(
    session: Session,
    sub: Submission,
    case: Case,
    who: audit.Actor,
    kind: str,
    body: str,
    filer_name: str,
    filer_id: int | None,
    at: dt.datetime,
) -> ComplaintOut:
    if kind not in COMPLAINT_KIND_LABELS:
        raise InvalidInput("Loại khiếu nại không hợp lệ", field="kind")
    # What people type, as everywhere (shared/text.py): a NUL cannot even be stored.
    body, filer_name = multiline(body), one_line(filer_name)
    if not body:
        raise InvalidInput("Nội dung khiếu nại không được để trống", field="body")
    c = Complaint(
        tenant_id=sub.tenant_id,
        submission_id=sub.id,
        kind=kind,
        filer_name=filer_name,
        filer_officer_id=filer_id,
        body=body,
        filed_at=at,
    )
    repo.add(session, c)
    audit.record(
        session,
        sub.tenant_id,
        who,
        action="khieu_nai",
        entity="complaint",
        entity_id=c.id,
        after={"submission": sub.tracking_code, "kind": kind},
    )
    _freeze(session, sub, case, who)
    return complaint_out(sub, c)


def resolve_complaint(
    session: Session, officer: Officer, complaint_id: int, reason: str, *, at: dt.datetime | None = None
) -> ComplaintOut:
    c = repo.complaint(session, officer.tenant_id, complaint_id, lock=True)
    sub = None if c is None else repo.submission(session, officer.tenant_id, c.submission_id)
    if c is None or sub is None:
        raise NotFound("Không tìm thấy khiếu nại", field="complaint")
    _, case = find_case(session, officer, sub.tracking_code, lock=True)
    require_role(officer, DECIDERS)
    if c.resolved_at is not None:
        raise Conflict("Khiếu nại này đã được giải quyết")
    reason = multiline(reason)
    if not reason:
        raise InvalidInput("Cần ghi rõ lý do, kết quả giải quyết", field="reason")
    c.resolved_at, c.resolved_by, c.resolution = at or now(), officer.id, reason
    session.flush()
    who = actor(officer)
    audit.record(
        session,
        officer.tenant_id,
        who,
        action="giai_quyet_khieu_nai",
        entity="complaint",
        entity_id=c.id,
        before={"resolved": False},
        after={"resolved": True},
        reason=c.resolution,
    )
    if not repo.open_complaints(session, officer.tenant_id, sub.id) and case.status_before_freeze is not None:
        back = case.status_before_freeze
        case.status_before_freeze = None
        session.flush()
        change_status(session, sub, case, back, who, detail="Đã giải quyết xong khiếu nại, tranh chấp")
    return complaint_out(sub, c)


def complaint_out(sub: Submission, c: Complaint) -> ComplaintOut:
    return ComplaintOut(
        id=c.id,
        tracking_code=sub.tracking_code,
        kind=c.kind,
        kind_label=COMPLAINT_KIND_LABELS[c.kind],
        filed_at=c.filed_at,
        resolved_at=c.resolved_at,
        resolution=c.resolution,
    )


# --- personal data ---------------------------------------------------------------------------


def unmask(session: Session, officer: Officer, code: str, cipher: PiiCipher) -> PersonalDataOut:
    """The ID number and phone in clear, for an officer of a unit that sees the initiative in
    full; the audit log keeps who looked, and when (never the values)."""
    sub, case = find_case(session, officer, code)
    require_role(officer, DECIDERS)
    if case.trade_secret and officer.unit_id != case.own_unit_id:
        raise NotFound("Không tìm thấy sáng kiến", field="tracking_code")
    if not sees_unit(session, officer, case.own_unit_id) and officer.unit_id != case.holder_unit_id:
        raise NotFound("Không tìm thấy sáng kiến", field="tracking_code")
    if sub.id_number_enc is None or sub.phone_enc is None:
        raise Conflict("Dữ liệu cá nhân của sáng kiến này đã được xoá khi hết thời hạn lưu trữ")
    out = PersonalDataOut(
        tracking_code=sub.tracking_code,
        full_name=sub.full_name,
        id_number=cipher.open(sub.id_number_enc, kind="id_number"),
        phone=cipher.open(sub.phone_enc, kind="phone"),
    )
    audit.record(
        session,
        officer.tenant_id,
        actor(officer),
        action="xem_du_lieu_ca_nhan",
        entity="submission",
        entity_id=sub.id,
        after={"fields": ["id_number", "phone"]},
        subjects=[sub.id],
    )
    return out
