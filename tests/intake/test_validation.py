"""The form's rules as pure functions: Vietnamese messages per field, NFC counting, no echo."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from services.intake.validation import DESCRIPTION_MAX, validate
from tests.intake.conftest import form


def errors_of(body: object) -> dict[str, str]:
    _, errs = validate(body, this_year=2026)
    return {e["field"]: e["message"] for e in errs}


def test_valid_form_is_normalised() -> None:
    clean, errs = validate(form(full_name="  Nông   Thị Hoa ", phone="+84 912.345.678"), this_year=2026)
    assert errs == [] and clean is not None
    assert clean.full_name == "Nông Thị Hoa" and clean.phone == "0912345678" and clean.id_number == "001203004567"


def test_each_wrong_field_is_named_in_vietnamese() -> None:
    errs = errors_of(
        form(
            full_name="",
            id_number="12345",
            phone="12345",
            group="ca_nhan",
            field="the_thao",
            consent=False,
            email="khong-phai-email",
            birth_year=1800,
        )
    )
    assert set(errs) == {"full_name", "id_number", "phone", "group", "field", "consent", "email", "birth_year"}
    assert errs["id_number"] == "Số CMND/CCCD phải gồm 9 hoặc 12 chữ số"
    assert "không được để trống" in errs["full_name"]
    assert "đồng ý" in errs["consent"]


def test_missing_fields_and_wrong_types() -> None:
    errs = errors_of({"title": 5, "description": ["x"], "consent": "true"})
    assert {
        "full_name",
        "id_number",
        "phone",
        "unit",
        "subunit",
        "group",
        "field",
        "title",
        "description",
        "consent",
    } <= set(errs)
    assert errs["title"] == "Tên sáng kiến phải là chuỗi ký tự"
    assert errors_of([1, 2]) == {"body": "Nội dung gửi lên phải là một đối tượng JSON"}


def test_messages_never_repeat_the_digits() -> None:
    errs = errors_of(form(id_number="0012030045679999", phone="09123456789999"))
    text = " ".join(errs.values())
    assert "0012030045679999" not in text and "912345678" not in text and "203004" not in text


def test_description_counts_nfc_characters() -> None:
    composed = ("Sáng kiến tiết kiệm điện " * 41)[: DESCRIPTION_MAX - 1] + "ạ"  # 1,000 characters composed
    decomposed = unicodedata.normalize("NFD", composed)
    assert len(decomposed) > DESCRIPTION_MAX  # a phone keyboard may send this
    clean, errs = validate(form(description=decomposed), this_year=2026)
    assert errs == [] and clean is not None
    assert clean.description == composed
    errs2 = errors_of(form(description=composed + "ạ"))
    assert errs2["description"] == "Mô tả dài tối đa 1.000 ký tự (hiện có 1.001)"


def test_control_characters_are_dropped() -> None:
    clean, errs = validate(form(title="Sáng\x00 kiến\x07", description="dòng 1\r\ndòng 2\x00"), this_year=2026)
    assert errs == [] and clean is not None
    assert clean.title == "Sáng kiến" and clean.description == "dòng 1\ndòng 2"


@given(st.text(max_size=1200))
def test_any_description_is_accepted_or_named(desc: str) -> None:
    clean, errs = validate(form(description=desc), this_year=2026)
    if clean is None:
        assert [e["field"] for e in errs] == ["description"]
    else:
        assert len(clean.description) <= DESCRIPTION_MAX
        assert clean.description == unicodedata.normalize("NFC", clean.description)
