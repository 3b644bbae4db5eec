"""The portal's pages and QR codes over HTTP, on the real intake server (the browser drives the
same pages in test_portal_browser.py)."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable
from html.parser import HTMLParser

import httpx
import pytest
import segno

from services.intake import portal
from shared.contracts.submissions import FIELD_LABELS
from tests.intake.conftest import Server

CONSENT = (
    "Tôi đồng ý để Công đoàn sử dụng số CMND/CCCD và số điện thoại của tôi chỉ để xác minh tác giả và liên hệ "
    "trong quá trình xét chọn sáng kiến; thông tin được mã hoá khi lưu trữ."
)
PUBLIC = "https://sangkien.congdoan.vn"


class Page(HTMLParser):
    """The tags of a page with their attributes, and which <option>s are selected in which <select>."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.selected: dict[str, list[str]] = {}
        self.options: dict[str, list[str]] = {}
        self._select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag == "select":
            self._select = a.get("id", "")
            self.selected[self._select] = []
            self.options[self._select] = []
        elif tag == "option" and self._select is not None:
            self.options[self._select].append(a.get("value", ""))
            if "selected" in a:
                self.selected[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def _get(
    server: Server, path: str, params: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", params=params, headers=headers, timeout=10)


# --- the registration page ------------------------------------------------------------------------


def test_the_form_is_vietnamese_and_complete(intake: Server) -> None:
    r = _get(intake, "/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="vi">' in html
    for text in ("Họ và tên", "Số CMND/CCCD", "Số điện thoại", "Đơn vị trực thuộc", "Nhóm ý tưởng", "Lĩnh vực"):
        assert text in html
    for text in ("Tên sáng kiến", "Mô tả", "0/1.000 ký tự", "Thông tin thêm (không bắt buộc)", CONSENT):
        assert text in html
    for label in FIELD_LABELS.values():
        assert f">{label}</option>" in html
    assert "Doanh nghiệp" in html and "Khối cơ quan" in html
    assert "[DEMO] Chương trình “75 nghìn sáng kiến, vượt khó, phát triển”" in html
    assert re.search(r"Cổng tiếp nhận mở từ .+ đến 24:00 ngày \d\d/\d\d/\d{4}", html)
    assert re.search(r'class="countdown-value">\d+ ngày \d\d:\d\d:\d\d<', html)

    page = Page(html)
    # Every field has its label; the keyboards a phone should open.
    labelled = {a["for"] for a in page.find("label") if "for" in a}
    controls = [a for t, a in page.tags if t in ("input", "select", "textarea") and a.get("type") != "radio"]
    assert controls and all(c["id"] in labelled for c in controls)
    assert page.find("input", name="id_number")[0]["inputmode"] == "numeric"
    phone = page.find("input", name="phone")[0]
    assert phone["type"] == "tel" and phone["inputmode"] == "tel" and phone["autocomplete"] == "tel"
    assert page.find("input", name="full_name")[0]["autocomplete"] == "name"
    assert len(page.find("input", type="radio", name="group")) == 2
    assert [o for o in page.options["f-field"] if o] == list(FIELD_LABELS)
    assert len([o for o in page.options["f-unit"] if o]) == 84  # 63 provinces, 20 sector unions, TLĐ
    # The form is sent by the script only: without it, nothing may leave in the address bar.
    assert page.find("form", id="form-sang-kien")[0]["method"] == "post"
    assert "disabled" in page.find("button", id="nut-gui")[0]
    # The CSP forbids inline scripts: the page has none, only its static file.
    scripts = page.find("script")
    assert scripts and all(s.get("src", "").startswith("/static/portal.js?v=") for s in scripts)
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-cache"


def test_a_qr_link_preselects_the_unit_and_subunit(intake: Server) -> None:
    page = Page(_get(intake, "/", params={"don_vi": "cao-bang", "truc_thuoc": "H045"}).text)
    assert page.selected["f-unit"] == ["cao-bang"]
    assert page.selected["f-subunit"] == ["H045"]
    assert {"H040", "H045", "N-GD", "cao-bang"} <= set(page.options["f-subunit"])
    assert page.find("select", id="f-subunit")[0]["data-for"] == "cao-bang"

    # A union without subunits: its only choice is itself, already chosen.
    page = Page(_get(intake, "/", params={"don_vi": "cd-y-te"}).text)
    assert page.selected["f-subunit"] == ["cd-y-te"]

    # Unknown values are ignored and never written back into the page.
    r = _get(intake, "/", params={"don_vi": "<b>x</b>", "truc_thuoc": "<i>y</i>"})
    assert r.status_code == 200 and "<b>x</b>" not in r.text and "<i>y</i>" not in r.text
    page = Page(r.text)
    assert page.selected["f-unit"] == [] and "disabled" in page.find("select", id="f-subunit")[0]
    # A subunit of another unit is not preselected.
    page = Page(_get(intake, "/", params={"don_vi": "cao-bang", "truc_thuoc": "N-XXX"}).text)
    assert page.selected["f-unit"] == ["cao-bang"] and page.selected["f-subunit"] == []


def test_a_closed_portal_offers_tracking_only(intake_factory: Callable[..., Server]) -> None:
    closed = intake_factory(intake_campaign="75k-2021")
    r = _get(closed, "/")
    assert r.status_code == 200
    assert "Cổng tiếp nhận sáng kiến đã đóng lúc 24:00 ngày 20/04/2021" in r.text
    assert "Cổng tiếp nhận mở từ ngày 10/03/2021 đến 24:00 ngày 20/04/2021" in r.text
    page = Page(r.text)
    assert not page.find("form", id="form-sang-kien")
    assert not page.find("input", name="id_number") and not page.find("select", id="f-unit")
    assert page.find("form", id="form-theo-doi") and page.find("input", id="t-phone")
    assert "countdown" not in r.text  # nothing left to count down to


def test_tracking_page_prefills_the_code_and_escapes_it(intake: Server) -> None:
    r = _get(intake, "/theo-doi", params={"ma": "4-K7M4-Q2XP"})
    assert r.status_code == 200 and "Theo dõi kết quả" in r.text
    assert Page(r.text).find("input", id="t-code")[0]["value"] == "4-K7M4-Q2XP"
    r = _get(intake, "/theo-doi", params={"ma": '"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in r.text and "&lt;script&gt;" in r.text


def test_pages_are_compressed_and_static_files_cached(intake: Server) -> None:
    plain = _get(intake, "/", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    packed = _get(intake, "/", headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["content-encoding"] == "gzip" and packed.headers["vary"] == "Accept-Encoding"
    assert int(packed.headers["content-length"]) * 3 < len(plain.content)
    tracking = _get(intake, "/theo-doi", headers={"Accept-Encoding": "identity"}).text
    assert _get(intake, "/theo-doi", headers={"Accept-Encoding": "gzip"}).text == tracking  # httpx inflates it

    src = Page(plain.text).find("script")[0]["src"]
    js = _get(intake, src, headers={"Accept-Encoding": "gzip"})
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert js.headers["cache-control"] == portal.STATIC_CACHE and js.headers["content-encoding"] == "gzip"
    assert "Idempotency-Key" in js.text and "normalize('NFC')" in js.text
    again = _get(intake, src, headers={"If-None-Match": js.headers["etag"]})
    assert again.status_code == 304
    css = Page(plain.text).find("link", rel="stylesheet")[0]["href"]
    assert _get(intake, css).headers["content-type"].startswith("text/css")
    assert _get(intake, "/static/nope.js").status_code == 404


def test_countdown_text() -> None:
    assert portal.countdown_text(12 * 86_400 + 3 * 3600 + 4 * 60 + 5) == "12 ngày 03:04:05"
    assert portal.countdown_text(59.9) == "00:00:59"
    assert portal.countdown_text(-5) == "00:00:00"


# --- QR codes -------------------------------------------------------------------------------------


def png_modules(data: bytes, scale: int, border: int) -> list[list[int]]:
    """The dark (1) and light (0) modules of a 1-bit greyscale PNG, read back pixel by pixel."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert width == height and depth == 1 and colour == 0
    stride = (width + 7) // 8
    raw = zlib.decompress(idat)
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):  # PNG filters, one byte per "pixel" at depth 1
            left = line[i - 1] if i else 0
            if f == 1:
                line[i] = (line[i] + left) & 255
            elif f == 2:
                line[i] = (line[i] + prev[i]) & 255
            elif f == 3:
                line[i] = (line[i] + (left + prev[i]) // 2) & 255
            elif f == 4:
                up_left = prev[i - 1] if i else 0
                p = left + prev[i] - up_left
                pa, pb, pc = abs(p - left), abs(p - prev[i]), abs(p - up_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else prev[i] if pb <= pc else up_left)) & 255
        rows.append(line)
        prev = line
    n = width // scale - 2 * border
    assert width == (n + 2 * border) * scale

    def dark(x: int, y: int) -> int:
        return 0 if rows[y][x // 8] >> (7 - x % 8) & 1 else 1  # black is 0 in greyscale

    # the quiet zone is light all round
    assert not any(dark(x, 0) or dark(x, width - 1) or dark(0, x) or dark(width - 1, x) for x in range(width))
    c = scale // 2
    return [[dark((border + col) * scale + c, (border + row) * scale + c) for col in range(n)] for row in range(n)]


def svg_modules(data: bytes, border: int) -> list[list[int]]:
    """The dark modules drawn by segno's one path ("M4 4.5h7m1 0h2…": runs along each row)."""
    root = ET.fromstring(data)  # noqa: S314 - the SVG our own server just rendered, not untrusted input
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    size = int(root.attrib["viewBox"].split()[2])
    n = size - 2 * border
    grid = [[0] * n for _ in range(n)]
    path = next(p for p in root.iter("{http://www.w3.org/2000/svg}path") if p.get("class") == "qrline")
    x = y = 0.0
    for cmd, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path.attrib["d"]):
        if cmd == "M":
            x, y = float(a), float(b)
        elif cmd == "m":
            x, y = x + float(a), y + float(b)
        else:
            for col in range(int(x), int(x + float(a))):
                grid[int(y - 0.5) - border][col - border] = 1
            x += float(a)
    return grid


def expected(url: str) -> list[list[int]]:
    return [list(row) for row in segno.make(url, error=portal.QR_ERROR, micro=False).matrix]


@pytest.mark.parametrize(
    ("path", "url"),
    [
        ("/qr/cong", f"{PUBLIC}/"),
        ("/qr/cao-bang", f"{PUBLIC}/?don_vi=cao-bang"),
        ("/qr/cao-bang?truc_thuoc=H045", f"{PUBLIC}/?don_vi=cao-bang&truc_thuoc=H045"),
    ],
)
def test_qr_codes_encode_the_portal_address(intake_factory: Callable[..., Server], path: str, url: str) -> None:
    server = intake_factory(public_url=PUBLIC + "/")  # a trailing slash in the setting is tolerated
    base, _, query = path.partition("?")
    png = _get(server, f"{base}.png" + (f"?{query}" if query else ""))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.headers["cache-control"] == portal.QR_CACHE
    assert png_modules(png.content, scale=8, border=4) == expected(url)
    assert png_modules(png.content, scale=8, border=4) != expected(url + "x")

    svg = _get(server, f"{base}.svg" + (f"?{query}" if query else ""))
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.headers["cache-control"] == portal.QR_CACHE
    assert not svg.content.startswith(b"<?xml")
    assert svg_modules(svg.content, border=4) == expected(url)
    assert "filename=" in svg.headers["content-disposition"]


def test_qr_for_an_unknown_unit_is_404(intake: Server) -> None:
    for path in ("/qr/khong-co.svg", "/qr/khong-co.png", "/qr/khong-co", "/qr/cao-bang.png?truc_thuoc=H999"):
        r = _get(intake, path)
        assert r.status_code == 404, path
        assert r.json()["message"] in ("Không tìm thấy đơn vị", "Không tìm thấy đơn vị trực thuộc")
    # A subunit of another province is not one of Cao Bằng's.
    assert _get(intake, "/qr/cao-bang.svg?truc_thuoc=N-XXX").status_code == 404


def test_the_poster_page(intake_factory: Callable[..., Server]) -> None:
    server = intake_factory(public_url=PUBLIC)
    r = _get(server, "/qr/cao-bang", params={"truc_thuoc": "H045"})
    assert r.status_code == 200
    for text in (
        "Liên đoàn Lao động tỉnh Cao Bằng",
        "Liên đoàn Lao động huyện Hà Quảng",
        "Quét mã QR bằng camera điện thoại để gửi sáng kiến",
        f"{PUBLIC}/?don_vi=cao-bang&amp;truc_thuoc=H045",
        "Hạn cuối: 24:00 ngày",
    ):
        assert text in r.text
    page = Page(r.text)
    src = page.find("img", **{"class": "poster-qr"})[0]["src"]
    assert src == "/qr/cao-bang.svg?truc_thuoc=H045"
    assert _get(server, src).status_code == 200
    general = _get(server, "/qr/cong")
    assert general.status_code == 200 and f"{PUBLIC}/<" in general.text


def test_a_portal_without_its_campaign_says_so_in_a_page(intake_factory: Callable[..., Server]) -> None:
    """Before the directory names the campaign (a fresh deployment), a person gets a page, not JSON."""
    server = intake_factory(intake_campaign="chua-co")
    r = _get(server, "/")
    assert r.status_code == 503 and r.headers["content-type"].startswith("text/html")
    assert r.headers["retry-after"] == "5"
    assert "Cổng tiếp nhận đang khởi động, chưa có thông tin đợt phát động" in r.text
    assert _get(server, "/theo-doi").status_code == 200  # tracking needs no campaign
    assert _get(server, "/qr/cong.svg").status_code == 200
    assert _get(server, "/qr/cao-bang.svg").status_code == 503
