"""The rules of a submission's fields, the same whether it came through intake's form
(services/intake/validation.py) or a paper import (services/review/console/importing.py).

Messages are the rule's words without the field's name: each caller says which field (the
form's label, or the sheet's row and column).
"""

from __future__ import annotations

import re

NAME_MAX = 100
TITLE_MAX = 300
DESCRIPTION_MAX = 1000
SHORT_MAX = 200  # position, workplace
LONG_MAX = 1000  # benefit, awards
EMAIL_MAX = 254
APPLIED_FROM_MAX = 100

# Neither white space, control characters nor what an address may only carry quoted (markup,
# a list, a display name): "<script>@x.vn" is no one's address, and a NUL cannot be stored.
_EMAIL_CHAR = r"[^@\s\x00-\x1f\x7f<>()\[\]\\,;:\"]"
EMAIL = re.compile(rf"^{_EMAIL_CHAR}{{1,64}}@{_EMAIL_CHAR}{{1,253}}\.(?:(?!\.){_EMAIL_CHAR}){{2,63}}$")
# ASCII digits only: "²".isdigit() is true too.
_YEAR = re.compile(r"[0-9]{4}")
BIRTH_YEAR_MIN = 1930
YOUNGEST_AGE = 14

REQUIRED = "không được để trống"
NAME_RULE = "phải có ít nhất 2 chữ cái và không chứa chữ số"
EMAIL_RULE = "không đúng định dạng (ví dụ: ten@congdoan.vn)"


def too_long(max_len: int, length: int) -> str:
    return f"dài tối đa {max_len:,} ký tự (hiện có {length:,})".replace(",", ".")


def name_ok(name: str) -> bool:
    return len(name) >= 2 and not any(map(str.isdigit, name))


def parse_year(raw: str) -> int | None:
    """Four ASCII digits (white space around tolerated) as a year, else None."""
    raw = raw.strip()
    return int(raw) if _YEAR.fullmatch(raw) else None


def birth_year_ok(year: int, this_year: int) -> bool:
    return BIRTH_YEAR_MIN <= year <= this_year - YOUNGEST_AGE


def birth_year_rule(this_year: int) -> str:
    return f"phải là một năm từ {BIRTH_YEAR_MIN} đến {this_year - YOUNGEST_AGE}"
