"""The submission form's rules, with a Vietnamese message per field.

Pure functions (no I/O): intake's service calls them before anything is queued. The fields'
limits, rules and normalisation are shared with review's paper import
(shared/contracts/submission_fields.py, shared/text.py). Messages name
the field and never repeat what was typed (an ID number or phone must not reach a log or a
screen in clear).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from shared.contracts.submission_fields import (
    APPLIED_FROM_MAX,
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
from shared.contracts.submission_fields import DESCRIPTION_MAX as DESCRIPTION_MAX  # the portal and API show it
from shared.contracts.submissions import FIELD_LABELS, GROUP_LABELS
from shared.pii import InvalidPersonalData, normalize_id_number, normalize_phone
from shared.text import multiline as _text
from shared.text import one_line as _line


class CleanSubmission(NamedTuple):
    """A valid form, normalised. (Immutable; a named tuple because a frozen dataclass's
    ``__init__`` costs an ``object.__setattr__`` per field, on every submission.)"""

    full_name: str
    id_number: str
    phone: str
    unit: str
    subunit: str
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


def validate(body: Any, *, this_year: int) -> tuple[CleanSubmission | None, list[dict[str, str]]]:
    errors: list[dict[str, str]] = []

    def err(name: str, message: str) -> None:
        errors.append({"field": name, "message": message})

    if not isinstance(body, dict):
        return None, [{"field": "body", "message": "Nội dung gửi lên phải là một đối tượng JSON"}]

    def string(name: str, label: str, *, required: bool, max_len: int, multiline: bool = False) -> str | None:
        v = body.get(name)
        if v is not None and not isinstance(v, str):
            err(name, f"{label} phải là chuỗi ký tự")
            return None
        v = (_text(v) if multiline else _line(v)) if v else ""
        if not v:
            if required:
                err(name, f"{label} {REQUIRED}")
            return None
        if len(v) > max_len:
            err(name, f"{label} {too_long(max_len, len(v))}")
            return None
        return v

    full_name = string("full_name", "Họ và tên", required=True, max_len=NAME_MAX)
    if full_name is not None and not name_ok(full_name):
        err("full_name", f"Họ và tên {NAME_RULE}")
        full_name = None

    id_number = phone = None
    raw_id = body.get("id_number")
    if raw_id is None or raw_id == "":
        err("id_number", "Số CMND/CCCD không được để trống")
    elif not isinstance(raw_id, str):
        err("id_number", "Số CMND/CCCD phải là chuỗi chữ số")
    else:
        try:
            id_number = normalize_id_number(raw_id)
        except InvalidPersonalData as exc:
            err("id_number", str(exc))
    raw_phone = body.get("phone")
    if raw_phone is None or raw_phone == "":
        err("phone", "Số điện thoại không được để trống")
    elif not isinstance(raw_phone, str):
        err("phone", "Số điện thoại phải là chuỗi chữ số")
    else:
        try:
            phone = normalize_phone(raw_phone)
        except InvalidPersonalData as exc:
            err("phone", str(exc))

    unit = string("unit", "Đơn vị", required=True, max_len=64)
    subunit = string("subunit", "Đơn vị trực thuộc", required=True, max_len=64)

    group = body.get("group")
    if group is None or group == "":
        err("group", "Nhóm ý tưởng không được để trống")
    elif not isinstance(group, str) or group not in GROUP_LABELS:  # a list or an object is unhashable
        err("group", "Nhóm ý tưởng phải là Doanh nghiệp (doanh_nghiep) hoặc Khối cơ quan (khoi_co_quan)")
    field = body.get("field")
    if field is None or field == "":
        err("field", "Lĩnh vực không được để trống")
    elif not isinstance(field, str) or field not in FIELD_LABELS:
        err("field", "Lĩnh vực không có trong danh mục: " + ", ".join(FIELD_LABELS))

    title = string("title", "Tên sáng kiến", required=True, max_len=TITLE_MAX)
    description = string("description", "Mô tả", required=True, max_len=DESCRIPTION_MAX, multiline=True)

    consent = body.get("consent")
    if consent is not True:
        err("consent", "Cần đồng ý cho phép sử dụng thông tin cá nhân để xét chọn sáng kiến")

    birth_year = body.get("birth_year")
    if birth_year is not None and birth_year != "":
        if isinstance(birth_year, str):
            birth_year = parse_year(birth_year)  # None: not four digits
        if not isinstance(birth_year, int) or isinstance(birth_year, bool) or not birth_year_ok(birth_year, this_year):
            err("birth_year", f"Năm sinh {birth_year_rule(this_year)}")
            birth_year = None
    else:
        birth_year = None

    position = string("position", "Chức vụ", required=False, max_len=SHORT_MAX)
    workplace = string("workplace", "Đơn vị công tác", required=False, max_len=SHORT_MAX)
    email = string("email", "Thư điện tử", required=False, max_len=EMAIL_MAX)
    if email is not None and not EMAIL.match(email):
        err("email", f"Thư điện tử {EMAIL_RULE}")
        email = None
    applied_from = string("applied_from", "Thời gian áp dụng", required=False, max_len=APPLIED_FROM_MAX)
    benefit = string("benefit", "Hiệu quả, giá trị làm lợi", required=False, max_len=LONG_MAX, multiline=True)
    awards = string("awards", "Danh hiệu thi đua, khen thưởng", required=False, max_len=LONG_MAX, multiline=True)

    if errors:
        return None, errors
    assert full_name and id_number and phone and unit and subunit and title and description
    return (
        CleanSubmission(
            full_name=full_name,
            id_number=id_number,
            phone=phone,
            unit=unit,
            subunit=subunit,
            group=str(group),
            field=str(field),
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
