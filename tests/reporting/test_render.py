"""The dossier renderer (services/reporting/render): what the PDF and the DOCX say, read back
from the files themselves (pypdf, python-docx), and how they are laid out. Pure: no services."""

from __future__ import annotations

import datetime as dt
import functools
import io
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from services.reporting.render import content, fonts, render_docx, render_html, render_pdf, split
from services.reporting.render import pdf as pdf_module
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


@pytest.fixture(scope="module")
def hundred_pdf(hundred: Dossier) -> bytes:
    return render_pdf(hundred)


@pytest.fixture(scope="module")
def hundred_in_parts(hundred: Dossier) -> bytes:
    """The same, its table rendered in two parts (the threshold lowered: 100 rows are below it)."""
    return render_pdf(hundred, split_rows=10, parts=2)


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
    assert_shipped_subsets(embedded)


def assert_shipped_subsets(embedded: dict[str, TTFont]) -> None:
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
    """Every font program by its name, those of the pages and of their forms (a table rendered
    in parts has its page numbers in forms); a name given to two different programs fails."""
    out: dict[str, TTFont] = {}
    data_of: dict[str, bytes] = {}

    def visit(resources: Any) -> None:
        for ref in resources.get("/Font", {}).values():
            font = ref.get_object()
            for desc in font.get("/DescendantFonts", [font]):
                descriptor = desc.get_object().get("/FontDescriptor")
                assert descriptor is not None, "a font without an embedded program"
                data = descriptor.get_object()["/FontFile2"].get_object().get_data()
                name = str(font["/BaseFont"]).lstrip("/")
                assert data_of.setdefault(name, data) == data, f"two subsets named {name}"
                out[name] = TTFont(io.BytesIO(data))
        for ref in resources.get("/XObject", {}).values():
            xobject = ref.get_object()
            if xobject.get("/Subtype") == "/Form":
                visit(xobject["/Resources"].get_object())

    for page in PdfReader(io.BytesIO(pdf)).pages:
        visit(page["/Resources"])
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


@pytest.mark.parametrize("pdf", ["hundred_pdf", "hundred_in_parts"])
def test_table_pages_are_landscape_with_the_header_on_each(pdf: str, request: pytest.FixtureRequest) -> None:
    data: bytes = request.getfixturevalue(pdf)
    reader = PdfReader(io.BytesIO(data))
    pages = pdf_pages(data)
    first_table = next(i for i, t in enumerate(pages) if content.TABLE_TITLE in t)
    assert first_table >= 1 and len(pages) - first_table >= 3, "100 rows should take several pages"
    for i, page in enumerate(reader.pages):
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        if i < first_table:
            assert h > w and round(w) == 595, f"page {i + 1} of the Tờ trình is not A4 portrait"
        else:
            assert w > h and round(w) == 842, f"page {i + 1} of the table is not A4 landscape"
            if not signature_only(pages[i]):
                assert all(squash(x) in squash(pages[i]) for x in TABLE_HEADERS), f"no header row on page {i + 1}"
    flat = squash("".join(pages))
    assert all(squash(f"Nguyễn Văn Số {i}") in flat for i in range(1, 101))
    # Numbered from the second page on, at the top, each page with its own number.
    assert [n for n, _ in page_numbers(data)] == [str(i) for i in range(2, len(pages) + 1)]


def signature_only(page: str) -> bool:
    """A page that holds nothing but the signature under the table (which a table ending low on
    its page pushes to a page of its own, without the header row)."""
    return squash(page).startswith(squash(content.SIGN_ON_BEHALF))


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


# A table rendered in parts (services/reporting/render/split.py, merge.py): the threshold is
# lowered so that tables of tens of rows are split, which is quick; the cut falls where it
# would for a big table (the cost model's balance), so every part spans pages.

TOP_MARGIN_PT = content.PORTRAIT["top"] * content.PT_PER_MM  # the landscape pages' is the same


def varied_rows(n: int) -> list[DossierRow]:
    """Rows of one to seven sentences (some rows run onto the next page), a trade secret now and
    then (italics), one row of the 1,000-character description."""
    sentence = "Sáng kiến thay sổ giấy bằng bảng tính dùng chung, mỗi tổ tự cập nhật số liệu hằng ngày. "
    return [
        DossierRow(
            tracking_code=f"SK-{i}",
            full_name=f"Trần Thị Số {i}",
            birth_year=1970 + i % 30,
            position="Tổ trưởng" if i % 2 else None,
            workplace="Công ty cổ phần Xi măng Bỉm Sơn",
            title=f"Cải tiến quy trình số {i}",
            applied_from="Tháng 3/2021",
            summary=long_description() if i == 5 else sentence * (1 + i * 5 % 7),
            benefit="Tiết kiệm 10 triệu đồng mỗi năm",
            awards="Lao động tiên tiến năm 2020" if i % 3 else None,
            trade_secret=i % 11 == 4,
        )
        for i in range(1, n + 1)
    ]


@pytest.fixture(scope="module")
def varied() -> Dossier:
    return dossier(varied_rows(45))


@pytest.fixture(scope="module")
def varied_pdf(varied: Dossier) -> bytes:
    return render_pdf(varied)


@pytest.fixture(scope="module")
def varied_in_3(varied: Dossier) -> bytes:
    return render_pdf(varied, split_rows=10, parts=3)


@functools.cache
def runs_of(pdf: bytes) -> tuple[list[tuple[str, float, float, str]], ...]:
    """``_runs`` of every page (read once: pypdf takes its time)."""
    return tuple(_runs(pdf, i) for i in range(len(PdfReader(io.BytesIO(pdf)).pages)))


@functools.cache
def texts_of(pdf: bytes) -> tuple[str, ...]:
    return tuple(pdf_pages(pdf))


def page_numbers(pdf: bytes) -> list[tuple[str, tuple[float, float, str]]]:
    """Each page's number as printed (text, and x, y and face without the subset tag)."""
    out = []
    for runs in runs_of(pdf):
        top = [r for r in runs if r[2] < TOP_MARGIN_PT]
        assert len(top) <= 1, f"more than a number at the top: {top}"
        out += [(t, (round(x, 2), round(y, 2), font.split("+", 1)[1])) for t, x, y, font in top]
    return out


def numbers_in_the_tt_column(pdf: bytes) -> list[str]:
    left = content.LANDSCAPE["left"] * content.PT_PER_MM
    width = (content.LANDSCAPE["width"] - content.LANDSCAPE["left"] - content.LANDSCAPE["right"]) * content.PT_PER_MM
    tt = left + width * content.COLUMN_WIDTHS[0] / 100
    return [t for runs in runs_of(pdf)[1:] for t, x, y, _ in runs if x < tt and y > TOP_MARGIN_PT and t.isdigit()]


def words_of_the_content(pdf: bytes, d: Dossier) -> Counter[str]:
    """The PDF's words less what depends on where its pages break: each table page's header
    row and each page's number (which must be there)."""
    header = Counter(" ".join(content.build(d).headers).split())
    pages = texts_of(pdf)
    first_table = next(i for i, t in enumerate(pages) if content.TABLE_TITLE in t)
    total: Counter[str] = Counter()
    for i, text in enumerate(pages):
        words = Counter(nfc(text).split())
        if i:
            assert text.split()[-1] == str(i + 1), f"page {i + 1} ends with {text.split()[-1]!r}"
            words[str(i + 1)] -= 1
        if i >= first_table and not signature_only(text):
            assert header <= words, f"no header row on page {i + 1}"
            words -= header
        total += words
    return total


@pytest.mark.parametrize(("rows", "parts"), [("hundred", 2), ("varied", 3)])
def test_a_table_in_parts_reads_as_in_one_piece(rows: str, parts: int, request: pytest.FixtureRequest) -> None:
    d: Dossier = request.getfixturevalue(rows)
    whole = render_pdf(d) if rows == "varied" else request.getfixturevalue("hundred_pdf")
    split_up = (
        render_pdf(d, split_rows=10, parts=parts) if rows == "varied" else request.getfixturevalue("hundred_in_parts")
    )
    # Every word as often, but for the page furniture, and the rows in their order.
    assert words_of_the_content(split_up, d) == words_of_the_content(whole, d)
    assert (
        numbers_in_the_tt_column(split_up)
        == numbers_in_the_tt_column(whole)
        == [str(i) for i in range(1, len(d.rows) + 1)]
    )
    # Up to the page where the first part ends, the pages are the very same.
    last_of_first = str(len(split.plan(content.build(d).rows, parts)[0]))
    boundary = next(i for i, runs in enumerate(runs_of(split_up)) if i and last_of_first in [r[0] for r in runs])
    assert boundary >= 2 and texts_of(split_up)[:boundary] == texts_of(whole)[:boundary]
    # The pages after it may break elsewhere, by a page at most for each part that follows.
    assert abs(len(texts_of(split_up)) - len(texts_of(whole))) <= parts - 1
    # The document's title, language and bookmarks are the first part's: the dossier's.
    ours, theirs = PdfReader(io.BytesIO(split_up)), PdfReader(io.BytesIO(whole))
    assert ours.metadata == theirs.metadata and ours.metadata is not None and ours.metadata.title
    assert str(ours.root_object["/Lang"]) == str(theirs.root_object["/Lang"]) == "vi"
    assert bookmarks(ours) == bookmarks(theirs) == ["TỜ TRÌNH", content.TABLE_TITLE]


def bookmarks(reader: PdfReader) -> list[str]:
    def flat(items: Any) -> list[str]:
        return [t for o in items for t in (flat(o) if isinstance(o, list) else [str(o["/Title"])])]

    return flat(reader.outline)


def test_stamped_page_numbers_sit_where_one_piece_has_them(hundred_pdf: bytes, hundred_in_parts: bytes) -> None:
    whole, split_up = dict(page_numbers(hundred_pdf)), dict(page_numbers(hundred_in_parts))
    common = whole.keys() & split_up.keys()
    assert len(common) == min(len(whole), len(split_up)) > 10
    assert {n: split_up[n] for n in common} == {n: whole[n] for n in common}  # same place, same face


def test_a_table_in_parts_embeds_only_the_shipped_faces_each_subset_named_once(hundred_in_parts: bytes) -> None:
    embedded = embedded_fonts(hundred_in_parts)  # fails on a name given to two subsets
    assert {name.split("+", 1)[1] for name in embedded} <= {
        f"SangKien-Serif{s}" for s in ("", "-Bold", "-Italic", "-Bold-Italic")
    }
    assert len(embedded) > 4  # each part its own subsets, and the page numbers theirs
    assert_shipped_subsets(embedded)


def test_only_a_big_table_is_split_and_its_parts_take_about_as_long() -> None:
    assert split.part_count(199, 200, None) == 1 and split.part_count(100, 200, 4) == 1
    assert split.part_count(1000, 200, 3) == 3 and split.part_count(3, 1, 8) == 3 and split.part_count(500, 200, 1) == 1
    assert 1 <= split.part_count(1000, 200, None) <= 4
    for rows in (content.build(dossier(varied_rows(n))).rows for n in (1000, 40)):
        for n in (2, 3, 4):
            parts = split.plan(rows, n)
            assert [r for p in parts for r in p] == list(rows) and all(parts)  # every row once, in order
            first, *others = map(split.lines, parts)
            # The first part, rendered in the calling process, is bigger by a child's start (or
            # half an even share, for a small table), less what numbering and joining the
            # others costs it; to a row or so.
            start = min(split.START_LINES, split.lines(rows) / n / 2)
            for other in others:
                assert first + split.STAMP_SHARE * sum(others) == pytest.approx(start + other, abs=60)


def started_children(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[bytes]]:
    procs: list[subprocess.Popen[bytes]] = []
    popen = subprocess.Popen

    def record(*args: Any, **kw: Any) -> subprocess.Popen[bytes]:
        procs.append(popen(*args, **kw))
        return procs[-1]

    monkeypatch.setattr(subprocess, "Popen", record)  # the module split.py starts its children with
    return procs


def test_a_part_that_fails_fails_the_render(monkeypatch: pytest.MonkeyPatch) -> None:
    procs = started_children(monkeypatch)
    monkeypatch.setattr(split, "PART_MODULE", "services.reporting.render.no_such_part")
    with pytest.raises(split.PartFailed, match=r"part 2 failed \(exit status 1\).*No module named"):
        render_pdf(dossier(many_rows(30)), split_rows=10, parts=2)
    assert len(procs) == 1 and procs[0].returncode == 1


def test_a_part_past_its_time_is_killed_and_fails_the_render(monkeypatch: pytest.MonkeyPatch) -> None:
    procs = started_children(monkeypatch)
    with pytest.raises(split.PartFailed, match=r"part 2 (still running after 0.2 s|failed \(killed by signal 14\))"):
        render_pdf(dossier(many_rows(30)), split_rows=10, parts=2, timeout=0.2)
    # Killed by this process at the deadline or, had it been slower, by its own alarm: gone.
    assert len(procs) == 1 and procs[0].returncode in (-signal.SIGKILL, -signal.SIGALRM)


def test_when_the_first_part_fails_the_others_are_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    procs = started_children(monkeypatch)

    def broken(html: str) -> bytes:
        raise RuntimeError("the first part broke")

    monkeypatch.setattr(pdf_module, "write_pdf", broken)
    with pytest.raises(RuntimeError, match="the first part broke"):
        render_pdf(dossier(many_rows(30)), split_rows=10, parts=3)
    assert len(procs) == 2 and all(p.returncode == -signal.SIGKILL for p in procs)  # not waited for


def _parts_of(pid: int) -> list[int]:
    """The processes rendering parts for the process ``pid`` (not whatever else it may start)."""
    out = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):  # gone meanwhile
            continue
        if ppid == pid and split.PART_MODULE.encode() in argv:
            out.append(int(proc.name))
    return out


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_a_part_does_not_outlive_its_parent() -> None:
    """The process rendering the first part is killed outright (as Celery kills a worker child
    at its hard time limit): its child dies with it instead of rendering on, orphaned."""
    script = (
        "import tests.reporting.test_render as t; from services.reporting.render import render_pdf; "
        "render_pdf(t.dossier(t.many_rows(1500)), split_rows=10, parts=2)"
    )
    with subprocess.Popen([sys.executable, "-c", script], cwd=ROOT) as parent:
        deadline = time.monotonic() + 60
        while not (kids := _parts_of(parent.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(kids) == 1, "the render started no part"
        time.sleep(2.5)  # the child past its imports, rendering (its part takes seconds more)
        assert _alive(kids[0])
        parent.kill()
    deadline = time.monotonic() + 3
    while _alive(kids[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(kids[0])


def render_in_a_daemon(out: Any) -> None:
    """Run in a daemonic multiprocessing child, as a Celery prefork worker child is."""
    try:
        assert multiprocessing.current_process().daemon
        try:
            multiprocessing.Process(target=print).start()
            refused = ""
        except AssertionError as exc:  # what multiprocessing (and a process pool) meets there
            refused = str(exc)
        pdf = render_pdf(dossier(many_rows(30)), split_rows=10, parts=2)
        out.put((refused, pdf))
    except BaseException as exc:
        out.put((repr(exc), b""))
        raise


def test_a_table_in_parts_renders_in_a_daemonic_process() -> None:
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of pytest's threads
    queue = ctx.Queue()
    child = ctx.Process(target=render_in_a_daemon, args=(queue,), daemon=True)
    child.start()
    try:
        refused, pdf = queue.get(timeout=180)
    finally:
        child.join(60)
    assert child.exitcode == 0, refused
    assert "daemonic processes are not allowed to have children" in refused
    assert words_of_the_content(pdf, dossier(many_rows(30))) == words_of_the_content(
        render_pdf(dossier(many_rows(30))), dossier(many_rows(30))
    )
