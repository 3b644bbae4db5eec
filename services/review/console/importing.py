"""Import of initiatives collected on paper (the console's XLSX template): the rules.

Each row is checked on its own by the rules of intake's form (shared/contracts/submission_fields.py,
shared/text.py, shared/pii.py), with a Vietnamese message naming its row and column (never the
ID number or phone typed). Valid rows go in even when others fail; a row already imported — the
same person, initiative and campaign, whichever file it came in — is recognised by a keyed hash
(``import_key``) and not inserted twice. The ID number and phone are sealed with the platform's
key ring exactly as intake seals them (``PiiCipher.seal_identity``); each row gets a tracking code of the tenant.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from services.review.accounts import repository as accounts_repo
from services.review.accounts.principal import Officer
from services.review.accounts.service import units_in_reach
from services.review.console import repository as repo
from services.review.console.service import signature_values
from services.review.console.text import fold
from services.review.console.xlsx import BY_KEY, SheetRow, read_rows
from shared.contracts.submission_fields import (
    APPLIED_FROM_MAX,
    DESCRIPTION_MAX,
    EMAIL,
    EMAIL_MAX,
    EMAIL_RULE,
    LONG_MAX,
    NAME_MAX,
    NAME_RULE,
    REQUIRED,
    SHORT_MAX,
    TITLE_MAX,
    birth_year_ok,
    birth_year_rule,
    name_ok,
    parse_year,
    too_long,
)
from shared.contracts.submissions import FIELD_LABELS, GROUP_LABELS, new_tracking_code
from shared.errors import InvalidInput, NotFound
from shared.pii import InvalidPersonalData, PiiCipher, normalize_id_number, normalize_phone
from shared.text import multiline, one_line
from shared.timeutil import now

_GROUPS = {**{fold(v): k for k, v in GROUP_LABELS.items()}, **{k: k for k in GROUP_LABELS}}
_FIELDS = {**{fold(v): k for k, v in FIELD_LABELS.items()}, **{k: k for k in FIELD_LABELS}}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"Dòng {self.row}, cột “{self.column}”: {self.message}"


@dataclass
class ImportResult:
    unit_name: str
    campaign_name: str
    imported: list[tuple[int, str]] = field(default_factory=list)  # (row, tracking code)
    already: list[int] = field(default_factory=list)  # rows imported before (this file or another)
    errors: list[RowError] = field(default_factory=list)

    @property
    def rows_with_errors(self) -> int:
        return len({e.row for e in self.errors})


@dataclass(frozen=True)
class CleanRow:
    full_name: str
    id_number: str
    phone: str
    group: str
    field: str
    title: str
    description: str
    birth_year: int | None
    position: str | None
    workplace: str | None
    email: str | None
    applied_from: str | None
    benefit: str | None
    awards: str | None


def validate_row(row: SheetRow, *, this_year: int) -> tuple[CleanRow | None, list[RowError]]:
    errors: list[RowError] = []
    v = row.values

    def err(key: str, message: str) -> None:
        errors.append(RowError(row.number, BY_KEY[key].label, message))

    def text(key: str, *, required: bool, max_len: int, is_multiline: bool = False) -> str | None:
        value = (multiline if is_multiline else one_line)(v.get(key, ""))
        if not value:
            if required:
                err(key, REQUIRED)
            return None
        if len(value) > max_len:
            err(key, too_long(max_len, len(value)))
            return None
        return value

    full_name = text("full_name", required=True, max_len=NAME_MAX)
    if full_name is not None and not name_ok(full_name):
        err("full_name", NAME_RULE)
        full_name = None

    id_number = phone = None
    raw_id = v.get("id_number", "")
    if "id_number" in row.numeric and len(raw_id) == 11:
        raw_id = "0" + raw_id  # a CCCD typed into a number cell: Excel dropped its leading 0
    if not raw_id:
        err("id_number", REQUIRED)
    else:
        try:
            id_number = normalize_id_number(raw_id)
        except InvalidPersonalData:
            err("id_number", "phải gồm 9 hoặc 12 chữ số")
    raw_phone = v.get("phone", "")
    if "phone" in row.numeric and len(raw_phone) in (9, 10) and not raw_phone.startswith("0"):
        raw_phone = "0" + raw_phone  # the same for a phone number
    if not raw_phone:
        err("phone", REQUIRED)
    else:
        try:
            phone = normalize_phone(raw_phone)
        except InvalidPersonalData:
            err("phone", "không đúng định dạng số điện thoại Việt Nam")

    group = field_code = None
    raw_group = v.get("group", "")
    if not raw_group:
        err("group", REQUIRED)
    elif (group := _GROUPS.get(fold(one_line(raw_group)))) is None:
        err("group", "phải là “Doanh nghiệp” hoặc “Khối cơ quan”")
    raw_field = v.get("field", "")
    if not raw_field:
        err("field", REQUIRED)
    elif (field_code := _FIELDS.get(fold(one_line(raw_field)))) is None:
        err("field", "không có trong danh mục (xem trang “Danh mục” của tệp mẫu)")

    title = text("title", required=True, max_len=TITLE_MAX)
    description = text("description", required=True, max_len=DESCRIPTION_MAX, is_multiline=True)

    birth_year: int | None = None
    raw_year = v.get("birth_year", "")
    if raw_year.strip():
        year = parse_year(raw_year)
        if year is not None and birth_year_ok(year, this_year):
            birth_year = year
        else:
            err("birth_year", birth_year_rule(this_year))
    position = text("position", required=False, max_len=SHORT_MAX)
    workplace = text("workplace", required=False, max_len=SHORT_MAX)
    email = text("email", required=False, max_len=EMAIL_MAX)
    if email is not None and not EMAIL.match(email):
        err("email", EMAIL_RULE)
    applied_from = text("applied_from", required=False, max_len=APPLIED_FROM_MAX)
    benefit = text("benefit", required=False, max_len=LONG_MAX, is_multiline=True)
    awards = text("awards", required=False, max_len=LONG_MAX, is_multiline=True)

    if errors:
        return None, errors
    assert full_name and id_number and phone and group and field_code and title and description
    return (
        CleanRow(
            full_name=full_name,
            id_number=id_number,
            phone=phone,
            group=group,
            field=field_code,
            title=title,
            description=description,
            birth_year=birth_year,
            position=position,
            workplace=workplace,
            email=email,
            applied_from=applied_from,
            benefit=benefit,
            awards=awards,
        ),
        [],
    )


def import_key(cipher: PiiCipher, campaign_id: int, row: CleanRow) -> str:
    """A keyed hash of what makes the row this initiative: the same person, title and text in the
    same campaign. Keyed (HMAC), because it covers the ID number, which a plain hash would let
    anyone with the table recover by trying every number."""
    parts = (str(campaign_id), fold(row.full_name), row.id_number, row.phone, fold(row.title), fold(row.description))
    return cipher.digest("\x1f".join(parts), kind="paper-row").hex()


def identity_columns(cipher: PiiCipher, id_number: str, phone: str) -> dict[str, bytes]:
    """The submissions row's sealed ID number and phone, as intake's message carries them to the
    ingester (``PiiCipher.seal_identity``)."""
    id_sealed, phone_sealed = cipher.seal_identity(id_number, phone)
    return {
        "id_number_enc": id_sealed.ciphertext,
        "id_number_hash": id_sealed.digest,
        "phone_enc": phone_sealed.ciphertext,
        "phone_hash": phone_sealed.digest,
    }


def import_file(
    session: Session,
    officer: Officer,
    cipher: PiiCipher,
    *,
    data: bytes,
    unit_id: int,
    campaign_code: str,
) -> ImportResult:
    if unit_id not in units_in_reach(session, officer):
        raise NotFound("Không tìm thấy đơn vị", field="unit_id")
    unit = accounts_repo.unit_by_id(session, officer.tenant_id, unit_id)
    campaign = repo.campaign_by_code(session, campaign_code)
    if unit is None or campaign is None:
        raise NotFound("Không tìm thấy đơn vị hoặc chương trình")
    if campaign.tree_id != unit.tree_id:
        raise InvalidInput("Đơn vị này không thuộc cây tổ chức của chương trình đã chọn", field="campaign")
    rows = read_rows(data)  # UnreadableFile: the caller shows it as the form's error
    result = ImportResult(unit_name=unit.name, campaign_name=campaign.name)
    at = now()
    this_year = at.year
    signatures = []
    for row in rows:
        clean, errors = validate_row(row, this_year=this_year)
        if clean is None:
            result.errors.extend(errors)
            continue
        code = new_tracking_code(officer.tenant_id)
        new_id = repo.insert_submission(
            session,
            {
                "tenant_id": officer.tenant_id,
                "tracking_code": code,
                "submission_id": uuid.uuid4().hex,
                "campaign_id": campaign.id,
                "unit_id": unit.id,
                "full_name": clean.full_name,
                **identity_columns(cipher, clean.id_number, clean.phone),
                "idea_group": clean.group,
                "field": clean.field,
                "title": clean.title,
                "description": clean.description,
                "birth_year": clean.birth_year,
                "position": clean.position,
                "workplace": clean.workplace,
                "email": clean.email,
                "applied_from": clean.applied_from,
                "benefit": clean.benefit,
                "awards": clean.awards,
                "status": "received",
                "submitted_at": at,
                "stream_id": "paper",
                "source": "paper",
                "import_key": import_key(cipher, campaign.id, clean),
            },
        )
        if new_id is None:
            result.already.append(row.number)
            continue
        result.imported.append((row.number, code))
        signatures.append(signature_values(officer.tenant_id, new_id, clean.description))
    repo.add_signatures(session, signatures)
    return result
