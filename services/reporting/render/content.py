"""What the dossier says, worked out once from the Dossier: every sentence, line and cell that
the PDF (through HTML) and the DOCX both print. The two writers only lay it out, so the two
formats cannot drift apart in wording, in the trade-secret rule or in what an empty field shows.

All text here is clean: NFC (a phone keyboard may send decomposed Vietnamese, which would
otherwise reach the fonts as base letter plus combining marks), no character XML cannot carry
(lxml refuses them in the DOCX), white space folded as HTML would fold it, so that the DOCX,
which keeps spaces, prints the same words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from services.reporting.render import fonts
from shared.contracts.dossier import Dossier, DossierRow

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
DOC_KIND = "TỜ TRÌNH"
TABLE_TITLE = "BẢNG TỔNG HỢP TÓM TẮT SÁNG KIẾN"
SIGN_ON_BEHALF = "TM. BAN THƯỜNG VỤ"
WITHHELD = "(Bí mật kinh doanh – không công bố)"  # what a trade secret shows instead of its summary
WITHHELD_SHORT = "(Không công bố)"  # and in the narrow Thời gian áp dụng column

# The page geometry both writers use (millimetres; Nghị định 30/2020, Phụ lục I: top and bottom
# 20–25, left 30–35, right 15–20). The table pages are A4 turned.
PORTRAIT = {"width": 210, "height": 297, "top": 20, "bottom": 20, "left": 30, "right": 15}
LANDSCAPE = {"width": 297, "height": 210, "top": 20, "bottom": 15, "left": 20, "right": 15}
TEXT_WIDTH_MM = PORTRAIT["width"] - PORTRAIT["left"] - PORTRAIT["right"]
HEAD_SPLIT = 0.42  # the issuer's share of the heading; the national motto takes the rest
HEAD_SIZE = 12.0  # points, the issuer's names and the national name
PT_PER_MM = 72 / 25.4
# A line of the issuer's name breaks before the word that starts the next level of the
# administrative name, as offices write them: "LIÊN ĐOÀN LAO ĐỘNG / TỈNH THANH HÓA".
_LEVEL_WORDS = ("TỈNH", "THÀNH PHỐ", "HUYỆN", "QUẬN", "THỊ XÃ", "XÃ", "PHƯỜNG", "VIỆT NAM", "NGÀNH", "CÔNG TY")

# Line breaks of every kind become "\n"; then what XML 1.0 cannot hold (C0 controls but tab and
# newline, lone surrogates, U+FFFE/U+FFFF), the invisible C1 controls, and the bidirectional and
# zero-width characters are dropped (what review's forms drop too, shared/text.py: a row written
# before that, or by SQL, must not turn a line of a document of record around).
_BREAKS = re.compile(r"\r\n|[\r\v\f\x85\u2028\u2029]")
_INVALID = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff"
    r"\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def clean(s: str | None) -> str:
    """One-line text: NFC, invalid characters out, white space folded and trimmed."""
    if not s:
        return ""
    return " ".join(_INVALID.sub("", _BREAKS.sub("\n", unicodedata.normalize("NFC", s))).split())


def lines(s: str | None) -> tuple[str, ...]:
    """Multi-line text as its non-empty lines, each cleaned: a blank line prints as nothing."""
    if not s:
        return ()
    text = _BREAKS.sub("\n", s)
    return tuple(line for line in (clean(part) for part in text.split("\n")) if line)


def vn_date(day: int, month: int, year: int) -> str:
    """The date as a document writes it, "ngày 05 tháng 4 năm 2021": Nghị định 30/2020 pads
    days under 10 and the months 1 and 2 only (so that "tháng 1" cannot become "tháng 11")."""
    mm = f"{month:02d}" if month < 3 else str(month)
    return f"ngày {day:02d} tháng {mm} năm {year}"


def vn_count(n: int) -> str:
    """A count as an official text writes it: "02", "15", "1.000" (dot groups thousands)."""
    return f"{n:02d}" if n < 10 else f"{n:,}".replace(",", ".")


def head_lines(name: str, *, bold: bool, width_pt: float | None = None) -> tuple[str, ...]:
    """The issuer's name in the lines it is printed on: one if it fits the column, else two,
    broken before an administrative level word if one allows it, else where the lines come out
    most even. A name too long for two lines is left to the writers to wrap."""
    if not name:
        return ()
    width = width_pt if width_pt is not None else TEXT_WIDTH_MM * HEAD_SPLIT * PT_PER_MM - 6

    def w(text: str) -> float:
        return fonts.text_width_pt(text, HEAD_SIZE, bold=bold)

    if w(name) <= width:
        return (name,)
    words = name.split(" ")
    best: tuple[tuple[bool, float], tuple[str, str]] | None = None
    for i in range(1, len(words)):
        first, second = " ".join(words[:i]), " ".join(words[i:])
        longest = max(w(first), w(second))
        if longest > width:
            continue
        at_level = any(second == lw or second.startswith(lw + " ") for lw in _LEVEL_WORDS)
        key = (not at_level, longest)
        if best is None or key < best[0]:
            best = (key, (first, second))
    return best[1] if best else (name,)


def _rule_pt(lines: tuple[str, ...], size: float, share: float, *, bold: bool, cap_pt: float) -> float:
    # The decree's short line under a name or a subject: a third to a half of the line's length.
    longest = max((fonts.text_width_pt(line, size, bold=bold) for line in lines), default=0.0)
    return round(min(longest, cap_pt) * share, 1)


def _quoted(name: str) -> str:
    return "“" + name.strip("“”\"' ") + "”"


@dataclass(frozen=True, slots=True)
class Cell:
    lines: tuple[str, ...] = ()
    first_bold: bool = False  # the person's name
    note: bool = False  # the trade-secret placeholder, set in italics


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    cells: tuple[Cell, ...]  # the six columns after TT
    secret: bool


@dataclass(frozen=True, slots=True)
class Content:
    superior: tuple[str, ...]  # uppercase, in its printed lines; () when none is above the unit
    unit: tuple[str, ...]  # uppercase, in its printed lines
    unit_rule_pt: float  # the short line under the unit's name
    number_symbol: str  # "Số: …/TTr-LĐLĐ"
    place_date: str  # "Hà Quảng, ngày 05 tháng 4 năm 2021"
    subject: tuple[str, ...]  # in its printed lines
    subject_rule_pt: float
    recipient: str
    paragraphs: tuple[str, ...]
    receivers: tuple[str, ...]  # the Nơi nhận lines, "- " and ";" included
    signer: tuple[str, ...]  # "TM. BAN THƯỜNG VỤ", "CHỦ TỊCH"
    signer_name: str
    table_note: str  # "(Kèm theo Tờ trình số … của Ban Thường vụ …)"
    headers: tuple[str, ...]  # the seven column headers
    rows: tuple[Row, ...]
    title: str  # the document's metadata title


def _symbol(raw: str) -> str:
    # The contract's example is "Số: …/TTr-LĐLĐ"; a bare "…/TTr-LĐLĐ" is taken too.
    s = clean(raw)
    return re.sub(r"^số\s*:?\s*", "", s, flags=re.IGNORECASE)


def _row(n: int, r: DossierRow) -> Row:
    person = [clean(r.full_name)]
    if not r.trade_secret:
        # A trade secret shows only its title, effect and awards (and whose it is): the person's
        # other particulars stay out with the content.
        person += [
            f"Sinh năm {r.birth_year}" if r.birth_year else "",
            clean(r.position),
            clean(r.workplace),
            f"ĐT: {clean(r.phone_masked)}" if clean(r.phone_masked) else "",
        ]
    cells = (
        Cell(tuple(p for p in person if p), first_bold=True),
        Cell(lines(r.title)),
        Cell((WITHHELD_SHORT,), note=True) if r.trade_secret else Cell(lines(r.applied_from)),
        Cell((WITHHELD,), note=True) if r.trade_secret else Cell(lines(r.summary)),
        Cell(lines(r.benefit)),
        Cell(lines(r.awards)),
    )
    return Row(n, cells, r.trade_secret)


def build(d: Dossier) -> Content:
    unit = clean(d.unit_name)
    superior = clean(d.superior_name)
    campaign = _quoted(clean(d.campaign_name))
    round_name = clean(d.round_name)
    n = len(d.rows)
    secrets = sum(r.trade_secret for r in d.rows)
    symbol = _symbol(d.number_symbol)
    date = vn_date(d.issued_on.day, d.issued_on.month, d.issued_on.year)
    committee = f"Ban Thường vụ {unit}"
    recipient = clean(d.recipient_name)

    selected = (
        f"Trên cơ sở các sáng kiến do đoàn viên, công nhân, viên chức, lao động đăng ký, {committee} "
        f"đã phối hợp với chuyên môn đánh giá, thẩm định và xét chọn được {vn_count(n)} sáng kiến tiêu "
        f"biểu đã được áp dụng vào thực tế, mang lại hiệu quả thiết thực (có Bảng tổng hợp tóm tắt "
        f"sáng kiến kèm theo)."
    )
    if secrets:
        selected += (
            f" Trong đó có {vn_count(secrets)} sáng kiến thuộc bí mật kinh doanh, chỉ công bố tên "
            f"sáng kiến, hiệu quả và danh hiệu thi đua, khen thưởng của tác giả."
        )
    paragraphs = (
        f"Thực hiện Chương trình {campaign} của Tổng Liên đoàn Lao động Việt Nam và hướng dẫn của "
        f"{superior or 'công đoàn cấp trên'} về việc xét chọn, biểu dương sáng kiến ({round_name}), "
        f"{committee} đã triển khai đến các công đoàn cơ sở trực thuộc, tuyên truyền, vận động đoàn "
        f"viên, công nhân, viên chức, lao động tích cực nghiên cứu, đề xuất và áp dụng sáng kiến.",
        selected,
        "Các sáng kiến được đề nghị đều có hồ sơ đầy đủ theo quy định, không có khiếu nại về nội dung, "
        "kết quả sáng kiến và không có tranh chấp về quyền tác giả tại thời điểm xét chọn.",
        f"{committee} kính đề nghị {recipient} xem xét, biểu dương các sáng kiến nêu trên./.",
    )
    extra = [clean(x) for x in d.recipients]
    receivers = (*(f"- {x.rstrip(';.')};" for x in ["Như trên", *extra] if x), "- Lưu: VT.")
    unit_lines = head_lines(unit.upper(), bold=True)
    # The subject (trích yếu) in lines of meaning, never broken inside the campaign's name.
    subject = tuple(
        x for x in ("Về việc đề nghị xét chọn, biểu dương sáng kiến", f"trong Chương trình {campaign}", round_name) if x
    )
    text_pt = TEXT_WIDTH_MM * PT_PER_MM
    return Content(
        superior=head_lines(superior.upper(), bold=False),
        unit=unit_lines,
        unit_rule_pt=_rule_pt(unit_lines, HEAD_SIZE, 0.4, bold=True, cap_pt=text_pt * HEAD_SPLIT),
        number_symbol=f"Số: {symbol}",
        place_date=f"{clean(d.place)}, {date}",
        subject=subject,
        subject_rule_pt=_rule_pt(subject, 14, 0.4, bold=True, cap_pt=text_pt),
        recipient=recipient,
        paragraphs=paragraphs,
        receivers=receivers,
        signer=(SIGN_ON_BEHALF, clean(d.signer_title).upper()),
        signer_name=clean(d.signer_name),
        table_note=f"(Kèm theo Tờ trình số {symbol} {date} của {committee})",
        headers=(
            "TT",
            "Họ và tên, năm sinh, chức vụ, đơn vị công tác, điện thoại",
            "Tên sáng kiến",
            "Thời gian áp dụng",
            "Tóm tắt nội dung",
            "Hiệu quả, giá trị làm lợi, phạm vi ứng dụng",
            f"Danh hiệu thi đua, khen thưởng trong 3 năm ({clean(d.award_years)})",
        ),
        rows=tuple(_row(i, r) for i, r in enumerate(d.rows, 1)),
        title=f"Tờ trình đề nghị xét chọn, biểu dương sáng kiến – {unit} – {round_name}",
    )


# The columns' shares of the table's width, TT first. The summary, up to 1,000 characters, is
# the widest: it sets most rows' height, so its width sets the page count, and the PDF's time
# (WeasyPrint's cost is per line of text). Both writers use them.
COLUMN_WIDTHS = (3.5, 15.0, 12.0, 7.5, 35.0, 15.0, 12.0)
