"""The dossier renderer (services/reporting/render): what the PDF and the DOCX say, read back
from the files themselves (pypdf, python-docx), and how they are laid out. Pure: no services."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from services.reporting.render import content, fonts, render_docx, render_html, render_pdf
from shared.contracts.dossier import Dossier, DossierRow

ROOT = Path(__file__).resolve().parents[2]
VI_LOWER = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
VI_UPPER = VI_LOWER.upper()
PLAIN_WORDS = ("Đổi", "mới", "quy", "trình", "ứng", "dụng", "kỹ", "thuật", "tiết", "kiệm", "điện", "năng")
HTML_TITLE = "<script>alert(1)</script> & <b>x</b>"
SECRET_SUMMARY = "Công thức phối trộn phụ gia BM-4711 với tỷ lệ bí mật"
SECRET_PHONE = "*******321"
TABLE_HEADERS = ("Tóm tắt nội dung", "Thời gian áp dụng", "Hiệu quả, giá trị làm lợi, phạm vi ứng dụng")


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def squash(s: str) -> str:
    """NFC without white space: the layout wraps lines where it likes."""
    return "".join(nfc(s).split())


def long_description() -> str:
    words = (*PLAIN_WORDS, VI_LOWER, VI_UPPER)
    text, i = "", 0
    while len(text) < 1000:
        text += ("" if not text else " ") + words[i % len(words)]
        i += 1
    return text[:999].rstrip() + "."


def dossier(rows: list[DossierRow], **kw: Any) -> Dossier:
    base: dict[str, Any] = {
        "tenant_id": 38,
        "campaign_code": "75k-2021",
        "campaign_name": "75 nghìn sáng kiến, vượt khó, phát triển",
        "round_code": "dot-1",
        "round_name": "Đợt 1 – Tháng Công nhân năm 2021",
        "unit_code": "hq",
        "unit_name": "Liên đoàn Lao động huyện Hà Quảng",
        "superior_name": "Liên đoàn Lao động tỉnh Cao Bằng",
        "recipient_name": "Ban Thường vụ Liên đoàn Lao động tỉnh Cao Bằng",
        "number_symbol": "Số: …/TTr-LĐLĐ",
        "place": "Hà Quảng",
        "issued_on": dt.date(2021, 4, 12),
        "signer_name": "Nông Văn Tuấn",
        "recipients": ["Ban Thường vụ LĐLĐ tỉnh"],
        "rows": rows,
    }
    return Dossier(**{**base, **kw})


def rich_rows() -> list[DossierRow]:
    return [
        DossierRow(
            tracking_code="SK-1",
            full_name=unicodedata.normalize("NFD", "Đặng Thị Ỷ Lệ"),  # decomposed, as some keyboards send it
            birth_year=1984,
            position="Tổ trưởng tổ Ứng dụng",
            workplace=unicodedata.normalize("NFD", "Phân xưởng Điện – Công ty Thủy điện Bản Giốc"),
            phone_masked="*******678",
            title=f"Bảng chữ {VI_LOWER} và {VI_UPPER}",
            applied_from="Từ tháng 3/2021",
            summary=long_description(),
            benefit=unicodedata.normalize("NFD", "Làm lợi 250 triệu đồng mỗi năm; áp dụng toàn tỉnh"),
            awards="Chiến sĩ thi đua cơ sở năm 2019, 2020",
        ),
        DossierRow(
            tracking_code="SK-2",
            full_name="Hoàng Văn Bình",
            title=HTML_TITLE,
            summary="Dùng thẻ <i>nghiêng</i> & ký hiệu \"ngoặc\" 'đơn' trong mô tả",
            benefit="Giảm 30% thời gian",
        ),
        DossierRow(
            tracking_code="SK-3",
            full_name="Lò Thị Mai",
            birth_year=1990,
            position="Kỹ sư công nghệ",
            phone_masked=SECRET_PHONE,
            title="Phụ gia chống thấm cho bê tông mác cao",
            applied_from="Tháng 4/2021",
            summary=SECRET_SUMMARY,  # review sends None for a trade secret; the renderer must not rely on it
            benefit="Tiết kiệm 1,2 tỷ đồng mỗi năm",
            awards="Bằng khen của Tổng Liên đoàn năm 2020",
            trade_secret=True,
        ),
        DossierRow(tracking_code="SK-4", full_name="Vi Văn Khánh", title="Sáng kiến không có thông tin tuỳ chọn"),
    ]


def many_rows(n: int) -> list[DossierRow]:
    body = "Sáng kiến thay sổ giấy bằng bảng tính dùng chung, mỗi tổ tự cập nhật số liệu hằng ngày. " * 6
    return [
        DossierRow(
            tracking_code=f"SK-{i}",
            full_name=f"Nguyễn Văn Số {i}",
            birth_year=1970 + i % 30,
            workplace="Công ty cổ phần Xi măng Bỉm Sơn",
            title=f"Cải tiến quy trình đóng gói số {i}",
            applied_from="Tháng 3/2021",
            summary=body,
            benefit="Tiết kiệm 10 triệu đồng mỗi năm",
        )
        for i in range(1, n + 1)
    ]


def pdf_pages(pdf: bytes) -> list[str]:
    """Each page's text as pypdf reads it, not normalised (``squash`` does it for comparisons)."""
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages]


def docx_text(data: bytes) -> str:
    body = docx.Document(io.BytesIO(data)).element.body
    return "\n".join(t.text or "" for t in body.iter(qn("w:t")))


@pytest.fixture(scope="module")
def rich() -> Dossier:
    return dossier(rich_rows())


@pytest.fixture(scope="module")
def rich_pdf(rich: Dossier) -> bytes:
    return render_pdf(rich)


@pytest.fixture(scope="module")
def rich_docx(rich: Dossier) -> bytes:
    return render_docx(rich)


@pytest.fixture(scope="module")
def hundred() -> Dossier:
    return dossier(many_rows(100))


def shown_fields(d: Dossier) -> list[str]:
    """Every value the dossier must print, each as the documents print it (NFC)."""
    out = [d.unit_name.upper(), (d.superior_name or "").upper(), d.recipient_name, d.signer_name or "", d.place]
    for r in d.rows:
        out += [r.full_name, r.title, r.benefit or "", r.awards or ""]
        if not r.trade_secret:
            out += [r.position or "", r.workplace or "", r.phone_masked or "", r.applied_from or "", r.summary or ""]
            out += [str(r.birth_year)] if r.birth_year else []
    return [nfc(x) for x in out if x]


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_every_value_is_printed_exactly(fmt: str, rich: Dossier, rich_pdf: bytes, rich_docx: bytes) -> None:
    text = "".join(pdf_pages(rich_pdf)) if fmt == "pdf" else docx_text(rich_docx)
    flat = squash(text)
    missing = [v for v in shown_fields(rich) if squash(v) not in flat]
    assert not missing, f"{fmt} lacks {missing}"
    assert squash(long_description()) in flat  # the 1,000 characters, in one piece and in order
    for ch in VI_LOWER + VI_UPPER:
        assert ch in text, f"{fmt} lost {ch!r}"
    assert "\ufffd" not in text and ".notdef" not in text
    assert "None" not in text
    # Decomposed input comes out composed (the text as read, not normalised): what a search in
    # the file finds, and one glyph per letter.
    assert "Đặng Thị Ỷ Lệ" in text and not any(unicodedata.combining(ch) for ch in text)


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_markup_in_the_data_prints_as_text(fmt: str, rich_pdf: bytes, rich_docx: bytes) -> None:
    text = "".join(pdf_pages(rich_pdf)) if fmt == "pdf" else docx_text(rich_docx)
    assert squash(HTML_TITLE) in squash(text)
    assert squash("Dùng thẻ <i>nghiêng</i> & ký hiệu \"ngoặc\" 'đơn'") in squash(text)


def test_html_escapes_the_data(rich: Dossier) -> None:
    html = render_html(rich)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;x&lt;/b&gt;" in html
    assert "<script>" not in html and "<i>nghiêng" not in html
    for face in fonts.FACES:  # the shipped faces, by file URL
        assert face.uri in html and face.path.is_file()


def test_the_tờ_trình_says_what_the_decree_asks(rich: Dossier, rich_pdf: bytes, rich_docx: bytes) -> None:
    first = squash(pdf_pages(rich_pdf)[0])
    words = [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: …/TTr-LĐLĐ",
        "Hà Quảng, ngày 12 tháng 4 năm 2021",
        "TỜ TRÌNH",
        "Về việc đề nghị xét chọn, biểu dương sáng kiến trong Chương trình “75 nghìn sáng kiến, vượt khó, phát triển”",
        "Kính gửi: Ban Thường vụ Liên đoàn Lao động tỉnh Cao Bằng",
        "xét chọn được 04 sáng kiến",
        "Trong đó có 01 sáng kiến thuộc bí mật kinh doanh",
        "Nơi nhận:",
        "- Như trên;",
        "- Ban Thường vụ LĐLĐ tỉnh;",
        "- Lưu: VT.",
        "TM. BAN THƯỜNG VỤ",
        "CHỦ TỊCH",
        "Nông Văn Tuấn",
    ]
    assert [w for w in words if squash(w) not in first] == []
    assert [w for w in words if squash(w) not in squash(docx_text(rich_docx))] == []


def test_dates_and_counts_follow_the_decree() -> None:
    assert content.vn_date(5, 4, 2021) == "ngày 05 tháng 4 năm 2021"
    assert content.vn_date(20, 2, 2021) == "ngày 20 tháng 02 năm 2021"  # months 1 and 2 padded only
    assert content.vn_date(10, 12, 2021) == "ngày 10 tháng 12 năm 2021"
    assert [content.vn_count(n) for n in (1, 12, 1000)] == ["01", "12", "1.000"]


def test_issuer_names_break_before_the_administrative_level() -> None:
    assert content.head_lines("LIÊN ĐOÀN LAO ĐỘNG TỈNH THANH HÓA", bold=False) == (
        "LIÊN ĐOÀN LAO ĐỘNG",
        "TỈNH THANH HÓA",
    )
    assert content.head_lines("TỔNG LIÊN ĐOÀN LAO ĐỘNG VIỆT NAM", bold=False) == (
        "TỔNG LIÊN ĐOÀN LAO ĐỘNG",
        "VIỆT NAM",
    )
    assert content.head_lines("CÔNG ĐOÀN NGÀNH Y TẾ", bold=True) == ("CÔNG ĐOÀN NGÀNH Y TẾ",)


def _runs(pdf: bytes, page: int) -> list[tuple[str, float, float, str]]:
    """(text, x, y from the top, font) of every piece of text on a page, in points."""
    reader = PdfReader(io.BytesIO(pdf))
    height = float(reader.pages[page].mediabox.height)
    out: list[tuple[str, float, float, str]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if text.strip():
            x = tm[4] * cm[0] + cm[4]
            y = tm[5] * cm[3] + cm[5]
            out.append((nfc(text.strip()), x, height - y, str(font.get("/BaseFont", "")) if font else ""))

    reader.pages[page].extract_text(visitor_text=visit)
    return out


def test_the_heading_blocks_sit_where_the_decree_puts_them(rich_pdf: bytes) -> None:
    runs = _runs(rich_pdf, 0)

    def at(prefix: str) -> tuple[str, float, float, str]:
        return next(r for r in runs if r[0].startswith(prefix))

    superior, unit, nation = at("LIÊN ĐOÀN LAO ĐỘNG"), at("HUYỆN HÀ QUẢNG"), at("CỘNG HÒA")
    motto, number, date = at("Độc lập"), at("Số:"), at("Hà Quảng, ngày")
    receivers, signer = at("Nơi nhận"), at("Nông Văn Tuấn")
    width = float(PdfReader(io.BytesIO(rich_pdf)).pages[0].mediabox.width)
    assert superior[1] < width / 2 - 80 and unit[1] < width / 2 - 80  # top left
    assert nation[1] > unit[1] + 100 and motto[1] > unit[1] + 100  # top right
    assert abs(nation[2] - superior[2]) < 2  # the two blocks start on one line
    assert number[2] > unit[2] and number[1] < width / 2 and date[1] > width / 2 - 20
    assert abs(number[2] - date[2]) < 6  # Số and the date face each other
    assert receivers[1] < width / 3 and signer[1] > width / 2 and signer[2] > receivers[2]
    assert "Bold" in unit[3] and "Bold" not in superior[3] and "Bold" in nation[3] and "Bold" in motto[3]
    assert "Italic" in date[3] and "Italic" not in number[3]


def test_fonts_are_the_shipped_faces_and_cover_vietnamese(rich_pdf: bytes) -> None:
    assert all(ord(ch) in fonts.covered(b) for ch in VI_LOWER + VI_UPPER + "“”–…" for b in (False, True))
    embedded = embedded_fonts(rich_pdf)
    assert {name.split("+", 1)[1] for name in embedded} == {
        "SangKien-Serif",
        "SangKien-Serif-Bold",
        "SangKien-Serif-Italic",
        "SangKien-Serif-Bold-Italic",
    }
    shipped = {str(TTFont(f.path)["name"].getDebugName(6)): f.path for f in fonts.FACES}
    for program in embedded.values():
        ps_name = str(program["name"].getDebugName(6))
        assert ps_name in fonts.postscript_names()
        original = TTFont(shipped[ps_name])
        # Every glyph the subset draws has the shipped file's outline: it is that file, subset.
        drawn = [(cp, g) for cp, g in program.getBestCmap().items() if program["glyf"][g].numberOfContours]
        assert drawn, f"{ps_name} embedded but draws nothing"
        for cp, g in drawn:
            theirs = original["glyf"][original.getBestCmap()[cp]]
            assert program["glyf"][g].getCoordinates(program["glyf"])[0] == theirs.getCoordinates(original["glyf"])[0]


def embedded_fonts(pdf: bytes) -> dict[str, TTFont]:
    out: dict[str, TTFont] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"].get("/Font", {}).values():
            font = ref.get_object()
            for desc in font.get("/DescendantFonts", [font]):
                descriptor = desc.get_object().get("/FontDescriptor")
                assert descriptor is not None, "a font without an embedded program"
                data = descriptor.get_object()["/FontFile2"].get_object().get_data()
                out[str(font["/BaseFont"]).lstrip("/")] = TTFont(io.BytesIO(data))
    return out


def test_the_pdf_does_not_need_the_machines_fonts(tmp_path: Path) -> None:
    """Rendered with a fontconfig that knows no font at all: still the shipped faces, every letter."""
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig></fontconfig>\n')
    out = tmp_path / "out.pdf"
    script = (
        "import sys, tests.reporting.test_render as t; from services.reporting.render import render_pdf; "
        "open(sys.argv[1], 'wb').write(render_pdf(t.dossier(t.rich_rows())))"
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(conf), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    subprocess.run([sys.executable, "-c", script, str(out)], cwd=ROOT, env=env, check=True, timeout=120)
    pdf = out.read_bytes()
    assert {n.split("+", 1)[1].split("-Bold")[0].split("-Italic")[0] for n in embedded_fonts(pdf)} == {"SangKien-Serif"}
    text = "".join(pdf_pages(pdf))
    assert all(ch in text for ch in VI_LOWER + VI_UPPER)


def test_table_pages_are_landscape_with_the_header_on_each(hundred: Dossier) -> None:
    pdf = render_pdf(hundred)
    reader = PdfReader(io.BytesIO(pdf))
    pages = pdf_pages(pdf)
    first_table = next(i for i, t in enumerate(pages) if content.TABLE_TITLE in t)
    assert first_table >= 1 and len(pages) - first_table >= 3, "100 rows should take several pages"
    for i, page in enumerate(reader.pages):
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        if i < first_table:
            assert h > w and round(w) == 595, f"page {i + 1} of the Tờ trình is not A4 portrait"
        else:
            assert w > h and round(w) == 842, f"page {i + 1} of the table is not A4 landscape"
            assert all(squash(x) in squash(pages[i]) for x in TABLE_HEADERS), f"no header row on page {i + 1}"
    flat = squash("".join(pages))
    assert all(squash(f"Nguyễn Văn Số {i}") in flat for i in range(1, 101))


def test_docx_table_section_is_landscape_and_its_header_repeats(hundred: Dossier) -> None:
    document = docx.Document(io.BytesIO(render_docx(hundred)))
    first, last = document.sections[0], document.sections[-1]
    assert len(document.sections) == 2
    assert first.orientation == WD_ORIENT.PORTRAIT and first.page_width < first.page_height
    assert last.orientation == WD_ORIENT.LANDSCAPE and last.page_width > last.page_height
    body = list(document.element.body)
    breaks = [i for i, el in enumerate(body) if el.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") is not None]
    table = next(t for t in document.tables if t.rows[0].cells[-1].text.startswith("Danh hiệu"))
    assert len(breaks) == 1 and body.index(table._tbl) > breaks[0]  # in the landscape section
    assert [c.text for c in table.rows[0].cells[:5]] == [
        "TT",
        "Họ và tên, năm sinh, chức vụ, đơn vị công tác, điện thoại",
        "Tên sáng kiến",
        "Thời gian áp dụng",
        "Tóm tắt nội dung",
    ]
    headers = [tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None for tr in table._tbl.tr_lst]
    assert headers[0] and not any(headers[1:])
    assert len(table.rows) == 101 and table.rows[100].cells[0].text == "100"
    widths = [c.width for c in table.rows[0].cells]
    assert max(widths) == widths[4]  # the summary column is the widest


def test_docx_formats_the_heading(rich_docx: bytes) -> None:
    document = docx.Document(io.BytesIO(rich_docx))
    head = document.tables[0]
    left = [(p.text, any(r.bold for r in p.runs)) for p in head.cell(0, 0).paragraphs if p.text]
    assert left == [
        ("LIÊN ĐOÀN LAO ĐỘNG", False),
        ("TỈNH CAO BẰNG", False),
        ("LIÊN ĐOÀN LAO ĐỘNG", True),
        ("HUYỆN HÀ QUẢNG", True),
    ]
    right = [p for p in head.cell(0, 1).paragraphs if p.text]
    assert [p.text for p in right] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    assert all(r.bold for p in right for r in p.runs)
    assert right[1]._p.find(f"{qn('w:pPr')}/{qn('w:pBdr')}/{qn('w:bottom')}") is not None  # its rule
    date = head.cell(1, 1).paragraphs[0]
    assert date.text == "Hà Quảng, ngày 12 tháng 4 năm 2021" and all(r.italic for r in date.runs)
    fonts_xml = document.styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}")
    assert fonts_xml is not None
    rfonts = fonts_xml.find(qn("w:rFonts"))
    assert rfonts is not None and rfonts.get(qn("w:ascii")) == rfonts.get(qn("w:hAnsi")) == "Times New Roman"


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_a_trade_secret_shows_only_title_effect_and_awards(fmt: str, rich_pdf: bytes, rich_docx: bytes) -> None:
    text = squash("".join(pdf_pages(rich_pdf)) if fmt == "pdf" else docx_text(rich_docx))
    secret = rich_rows()[2]
    assert squash(SECRET_SUMMARY) not in text and squash("BM-4711") not in text
    assert squash(secret.applied_from or "") not in text and squash(SECRET_PHONE) not in text
    assert text.count(squash(content.WITHHELD)) == 1 and text.count(squash(content.WITHHELD_SHORT)) == 1
    for shown in (secret.full_name, secret.title, secret.benefit or "", secret.awards or ""):
        assert squash(shown) in text


def test_empty_optional_fields_print_nothing() -> None:
    d = dossier([DossierRow(tracking_code="SK-9", full_name="Vi Văn Khánh", title="Một sáng kiến")], superior_name=None)
    c = content.build(d)
    assert c.superior == () and c.rows[0].cells[0].lines == ("Vi Văn Khánh",)
    assert all(cell.lines == () for cell in c.rows[0].cells[2:])
    for text in ("".join(pdf_pages(render_pdf(d))), docx_text(render_docx(d))):
        assert "None" not in text and "Sinh năm" not in text and "ĐT:" not in text
        assert "công đoàn cấp trên" in text  # the body's wording when no superior is named


def test_the_same_dossier_renders_twice_alike(rich: Dossier) -> None:
    first, second = render_pdf(rich), render_pdf(rich)
    assert first[:5] == b"%PDF-" and pdf_pages(first) == pdf_pages(second)
    assert docx_text(render_docx(rich)) == docx_text(render_docx(rich))
    assert render_html(rich) == render_html(rich)


def test_control_characters_are_dropped_before_xml() -> None:
    row = DossierRow(tracking_code="SK-8", full_name="Hà\x00 Văn\x0b Long", title="Tên\x1f có\r\nký tự lạ\ud800")
    c = content.build(dossier([row]))
    assert c.rows[0].cells[0].lines == ("Hà Văn Long",) and c.rows[0].cells[1].lines == ("Tên có", "ký tự lạ")
    assert "Hà Văn Long" in docx_text(render_docx(dossier([row])))
