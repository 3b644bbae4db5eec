"""“Ai đã xem dữ liệu của người này”: given a person's ID number or phone, every officer who saw
their data — opened one of their initiatives' pages, unmasked their ID number and phone, exported
a file holding their rows, downloaded a dossier with them — with when and what.

The number is looked up by its keyed hash (shared.pii), never stored or logged: the submissions
are found through their own indexes, the entries through ``audit_subjects`` (written with each
entry, services/review/audit/service.record), so the answer costs a few index probes whatever
the length of the chain. The look-up is itself an audit entry (the number masked to its last 3
digits), and shows in the next one's answer: whoever asks about a person is seen asking.

Only a quản trị asks, about the people of their unit and below (another tenant's or another
branch's submissions are not found, as everywhere in the console)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.accounts.service import units_in_reach
from services.review.audit import repository as repo
from services.review.workflow.access import record_act, require_role
from shared.errors import InvalidInput
from shared.pii import ID_NUMBER, PHONE, InvalidPersonalData, PiiCipher, mask, normalize_id_number, normalize_phone
from shared.timeutil import local

LIMIT = 1000
LOOKUP_ACTION = "tra_cuu_nguoi_xem"
BAD_NUMBER = (
    "Số cần tra cứu phải là số CMND/CCCD (9 hoặc 12 chữ số) hoặc số điện thoại Việt Nam (10 chữ số, có thể viết +84)"
)

# What each kind of entry showed, as the page says it (the actions that carry subjects).
ACTION_LABELS: dict[str, str] = {
    "xem_trang_sang_kien": "Mở trang sáng kiến (số CMND/CCCD và điện thoại đã che)",
    "xem_du_lieu_ca_nhan": "Xem số CMND/CCCD và số điện thoại đầy đủ",
    "xuat_du_lieu": "Xuất dữ liệu ra tệp (số điện thoại đã che)",
    "xuat_so_dien_thoai": "Xuất dữ liệu ra tệp có số điện thoại đầy đủ",
    "tai_ho_so": "Tải hồ sơ xét chọn",
    LOOKUP_ACTION: "Tra cứu ai đã xem dữ liệu của người này",
}


@dataclass(frozen=True)
class Sighting:
    at: dt.datetime  # Asia/Ho_Chi_Minh
    officer_id: int | None
    officer: str  # "Name (login, role)", as the log keeps it
    action: str
    what: str
    tracking_code: str
    detail: str | None


@dataclass(frozen=True)
class WhoSaw:
    number_masked: str
    kinds: list[str]  # what the number was taken as: "số CMND/CCCD", "số điện thoại"
    tracking_codes: list[str]  # the person's initiatives in the officer's reach
    sightings: list[Sighting]
    truncated: bool


@dataclass(frozen=True)
class Person:
    masked: str
    kinds: list[str]
    id_number_hash: bytes | None
    phone_hash: bytes | None


def person_of(cipher: PiiCipher, raw: str) -> Person:
    """The number taken as an ID number, a phone, or both where it reads as both; refused in
    Vietnamese, naming the field, without repeating it."""
    id_hash = phone_hash = None
    kinds: list[str] = []
    try:
        id_hash = cipher.digest(normalize_id_number(raw), kind=ID_NUMBER)
        kinds.append("số CMND/CCCD")
    except InvalidPersonalData:
        pass
    try:
        phone_hash = cipher.digest(normalize_phone(raw), kind=PHONE)
        kinds.append("số điện thoại")
    except InvalidPersonalData:
        pass
    if not kinds:
        raise InvalidInput(BAD_NUMBER, field="number")
    return Person(mask(re.sub(r"\D", "", raw)), kinds, id_hash, phone_hash)


def _detail(action: str, after: Any) -> str | None:
    a = after if isinstance(after, dict) else {}
    if action == "xem_trang_sang_kien" and a.get("via") == "api":
        return "Qua giao diện lập trình (API)"
    if action in ("xuat_du_lieu", "xuat_so_dien_thoai") and a.get("file"):
        return f"Tệp {a['file']} ({a.get('rows', '?')} sáng kiến)"
    if action == "tai_ho_so":
        fmt = str(a.get("format", "")).upper()
        return f"Hồ sơ {fmt} của đơn vị {a.get('unit', '?')}, {a.get('round', '')}".rstrip(", ")
    if action == LOOKUP_ACTION and a.get("number"):
        return f"Tra cứu theo {a.get('kinds', 'số')} {a['number']}"
    return None


def who_saw(session: Session, officer: Officer, cipher: PiiCipher, raw: str) -> WhoSaw:
    require_role(officer, (Role.quan_tri,))
    person = person_of(cipher, raw)
    reach = units_in_reach(session, officer)
    found = [
        r
        for r in repo.person_submissions(
            session, officer.tenant_id, id_number_hash=person.id_number_hash, phone_hash=person.phone_hash
        )
        if {r.unit_id, r.holder_unit_id, r.own_unit_id} & reach
    ]
    codes = {r.id: r.tracking_code for r in found}
    rows = repo.entries_about(session, officer.tenant_id, codes, limit=LIMIT + 1)
    sightings = [
        Sighting(
            at=local(r.at),
            officer_id=r.actor_id,
            officer=r.actor,
            action=r.action,
            what=ACTION_LABELS.get(r.action, r.action.replace("_", " ").capitalize()),
            tracking_code=codes[r.submission_id],
            detail=_detail(r.action, r.after),
        )
        for r in rows[:LIMIT]
    ]
    # Asking is seeing: it links the number to these initiatives. Recorded after the read, so
    # this answer lists the earlier look-ups and the next one lists this.
    record_act(
        session,
        officer,
        action=LOOKUP_ACTION,
        entity="person",
        entity_id=person.masked,
        after={"number": person.masked, "kinds": " hoặc ".join(person.kinds), "submissions": len(codes)},
        subjects=codes,
    )
    return WhoSaw(person.masked, person.kinds, sorted(codes.values()), sightings, len(rows) > LIMIT)
