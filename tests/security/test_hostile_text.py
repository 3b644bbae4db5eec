"""Hostile text at every door where a person types, on real servers: intake's API (and through
the ingester into PostgreSQL), the console's forms and the public confirmation page, and the
JSON APIs of review, reporting and notify. Each thing typed is refused with a Vietnamese message
that names the field (never repeating what was typed), or kept as tests/security/hostile.py
says it must be (markup kept literally, the invisible dropped) and shown escaped. Bytes that
are not UTF-8, lone surrogates and bodies past the limit are refused as a whole, never a 5xx.

The browser's view of the same text is tests/security/test_hostile_text_pages.py; the files
(PDF, DOCX, XLSX, CSV, e-mail) are tests/security/test_hostile_text_documents.py.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient

from services.review.ingester import Ingester
from shared.config import CommonSettings
from tests.review.console.conftest import (  # noqa: F401  # fixtures, requested by name
    _clean_console_keys,
    cipher,
    client_factory,
    make_officer,
    make_submission,
    make_unit,
    scene,
    settings_factory,
    signed_in,
    workflow_seeded,
)
from tests.review.console.selection_scene import ROUND, Scene
from tests.review.console.test_configuration_edit import restore  # noqa: F401  # a fixture
from tests.review.console.test_disputes import public_complaints  # noqa: F401  # a fixture
from tests.security.hostile import CORPUS, INVISIBLE, SCRIPT, kept_line, kept_text, read_page, visible
from tests.support.stack import Server, drain, form

URL = "/api/v1/submissions"
VIETNAMESE = re.compile("[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]")

# The form's free-text fields: (name, multi-line).
TEXT_FIELDS = {
    "full_name": False,
    "title": False,
    "description": True,
    "position": False,
    "workplace": False,
    "applied_from": False,
    "benefit": True,
    "awards": True,
}


def person(**over: Any) -> dict[str, Any]:
    return form(phone=f"09{secrets.randbelow(10**8):08d}", id_number=f"0{secrets.randbelow(10**11):011d}", **over)


def post_raw(server: Server, body: bytes, content_type: str = "application/json") -> httpx.Response:
    return httpx.post(server.url + URL, content=body, headers={"content-type": content_type})


def assert_refused_naming(r: httpx.Response, field: str, typed: str) -> None:
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert [e["field"] for e in errors] == [field], errors
    assert VIETNAMESE.search(errors[0]["message"]), errors
    # What was typed is never said back (it may be a person's data, or the attack itself).
    assert typed not in r.text and (len(typed) < 8 or typed[:8] not in r.text)


# --- intake: each field, each hostile text, all the way into the database -----------------------


def test_intake_refuses_or_keeps_each_hostile_text_as_typed(
    intake: Server, ingester: Ingester, migrated: CommonSettings
) -> None:
    kept: dict[str, tuple[str, bool, str]] = {}  # tracking code → (field, multi-line, typed)
    for field, multiline in TEXT_FIELDS.items():
        for name, typed in CORPUS.items():
            r = httpx.post(intake.url + URL, json=person(**{field: typed}))
            if r.status_code == 422:
                # Refused: only a name's own rule may refuse these (letters, no digits).
                assert field == "full_name", (field, name, r.text)
                assert_refused_naming(r, field, typed)
                continue
            assert r.status_code == 202, (field, name, r.text)
            kept[r.json()["tracking_code"]] = (field, multiline, typed)
    assert len(kept) >= len(CORPUS) * (len(TEXT_FIELDS) - 1)

    # The rows the ingester wrote: exactly what the rule says, nothing invisible left.
    assert drain(ingester) >= len(kept)
    columns = {"full_name", "title", "description", "position", "workplace", "applied_from", "benefit", "awards"}
    with psycopg.connect(migrated.database_url.replace("+psycopg", "")) as c:
        rows = c.execute(
            f"SELECT tracking_code, {', '.join(sorted(columns))} FROM review.submissions "  # noqa: S608 - fixed names
            "WHERE tracking_code = ANY(%s)",
            (list(kept),),
        ).fetchall()
    assert len(rows) == len(kept)
    problems = []
    for row in rows:
        values = dict(zip(["tracking_code", *sorted(columns)], row, strict=True))
        field, multiline, typed = kept[values["tracking_code"]]
        want = kept_text(typed) if multiline else kept_line(typed)
        got = values[field]
        if got != want or INVISIBLE.search(got or ""):
            problems.append((field, typed[:30], got))
    assert problems == []


def test_intake_tracking_shows_the_title_as_kept(intake: Server) -> None:
    body = person(title=CORPUS["bidi"] + " " + SCRIPT)
    r = httpx.post(intake.url + URL, json=body)
    assert r.status_code == 202
    code = r.json()["tracking_code"]
    t = httpx.get(f"{intake.url}{URL}/{code}", headers={"X-Phone": body["phone"]})
    assert t.status_code == 200 and t.json()["title"] == kept_line(body["title"])
    assert t.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "a@b.vn\r\nBcc: ke-gian@example.com"),
        ("email", "<script>@x.vn"),
        ("email", "a@b.vn, c@d.vn"),
        ("unit", "<script>alert(1)</script>"),
        ("subunit", "H045<b>"),
        ("group", {"$ne": 1}),
        ("field", ["san_xuat"]),
        ("title", "x" * 301),
        ("description", "ư" * 1001),
        ("consent", "true"),
    ],
)
def test_intake_refuses_a_hostile_value_naming_its_field(intake: Server, field: str, value: Any) -> None:
    r = httpx.post(intake.url + URL, json=person(**{field: value}))
    typed = value if isinstance(value, str) else orjson.dumps(value).decode()
    assert_refused_naming(r, field, typed if len(typed) > 3 else "\x00never")


def test_intake_refuses_bytes_that_are_not_utf8_or_json(intake: Server) -> None:
    good = orjson.dumps(person())
    for bad in (
        good.replace(b"Hoa", b"Ho\xff\xfe"),  # not UTF-8
        good.replace(b"Hoa", b"Ho\xc0\xaf"),  # an overlong encoding of "/"
        good.replace(b"Hoa", b"Ho\xed\xa0\x80"),  # a surrogate encoded as UTF-8 (CESU)
        good.replace(b"Hoa", b"Ho\\ud800"),  # a lone surrogate escaped in JSON
        b"\xef\xbb\xbf" + good,  # a byte-order mark before the JSON
        b"full_name=L%C3%AA&title=%FF%FE",  # a form body
    ):
        r = post_raw(intake, bad)
        assert r.status_code == 422, (bad[:40], r.text)
        assert r.json()["errors"][0]["field"] == "body" and "JSON" in r.json()["errors"][0]["message"]
    r = post_raw(intake, b"full_name=x&title=%FF", "application/x-www-form-urlencoded")
    assert r.status_code == 422


def test_intake_refuses_a_100_kb_string_before_reading_it_all(intake: Server) -> None:
    r = httpx.post(intake.url + URL, json=person(description="ử" * 100_000))
    assert r.status_code == 413
    assert r.json()["message"].startswith("Nội dung gửi lên vượt quá")


# --- the console's free text and the public confirmation page -----------------------------------


Client = Callable[..., TestClient]


def _detail(code: str) -> str:
    return f"/console/sang-kien/{code}"


def assert_shown_escaped(source: str, typed: str, *, multiline: bool = False) -> None:
    """What was kept is on the page as text (the browser reads it back whole), and none of its
    markup became an element, an attribute or a script."""
    page = read_page(source)
    want = kept_text(typed) if multiline else kept_line(typed)
    assert visible(want) in visible(page.text), (want, typed)
    assert page.injected() == []


def test_console_free_text_is_kept_and_shown_escaped(
    client_factory: Client,  # noqa: F811  # the fixture imported above
    scene: Scene,  # noqa: F811  # the fixture imported above
) -> None:
    code = scene.subs[0].tracking_code
    chair, csrf = signed_in(client_factory, scene.chair)
    scores = {"diem_tinh_moi": "8", "diem_hieu_qua": "9", "diem_pham_vi": "7", "diem_nhan_rong": "8"}
    for name, typed in CORPUS.items():
        # A complaint's text, then an appraisal note (the same officer's, replaced each time).
        r = chair.post(f"{_detail(code)}/khieu-nai", data={"csrf_token": csrf, "loai": "noi_dung", "noi_dung": typed})
        assert r.status_code in (303, 422), (name, r.status_code, r.text[:300])
        if r.status_code == 422:
            assert VIETNAMESE.search(r.text) and typed not in r.text
        r = chair.post(
            f"{_detail(code)}/cham-diem", data={"csrf_token": csrf, "dot": ROUND, **scores, "nhan_xet": typed}
        )
        assert r.status_code in (303, 409, 422), (name, r.status_code, r.text[:300])
        page = chair.get(_detail(code), params={"dot": ROUND})
        assert page.status_code == 200
        assert_shown_escaped(page.text, typed, multiline=True)


def test_the_public_confirmation_page_keeps_and_escapes_what_the_employer_types(
    client_factory: Client,  # noqa: F811  # the fixture imported above
    scene: Scene,  # noqa: F811  # the fixture imported above
) -> None:
    code = scene.subs[1].tracking_code
    chair, csrf = signed_in(client_factory, scene.chair)
    r = chair.post(f"{_detail(code)}/xac-nhan", data={"csrf_token": csrf, "dot": ROUND})
    url = re.search(r'id="link-url" value="([^"]+)"', r.text)
    assert url
    path = "/xac-nhan/" + url.group(1).rsplit("/xac-nhan/", 1)[1]
    public = client_factory()
    typed_name, typed_title = CORPUS["img"] + CORPUS["controls"], CORPUS["attr_break"] + CORPUS["bidi"]
    r = public.post(path, data={"name": typed_name, "title": typed_title, "applied_on": "2021-04-01"})
    assert r.status_code in (200, 422), r.text[:300]
    if r.status_code == 200:
        assert read_page(r.text).injected() == []
        page = chair.get(_detail(code)).text
        assert_shown_escaped(page, typed_name)
        assert_shown_escaped(page, typed_title)


def test_console_forms_refuse_bytes_that_are_not_utf8(
    client_factory: Client,  # noqa: F811  # the fixture imported above
    scene: Scene,  # noqa: F811  # the fixture imported above
) -> None:
    code = scene.subs[0].tracking_code
    chair, csrf = signed_in(client_factory, scene.chair)
    for body in (b"noi_dung=%FF%FE%00&loai=noi_dung", b"noi_dung=\xff\xfe&loai=noi_dung", b"noi_dung=%ED%A0%80"):
        r = chair.post(
            f"{_detail(code)}/khieu-nai",
            content=b"csrf_token=" + csrf.encode() + b"&" + body,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code < 500, (body, r.status_code, r.text[:300])


# --- JSON APIs: lone surrogates and bytes that are not UTF-8 --------------------------------------


def test_review_json_apis_refuse_what_is_not_text(
    client_factory: Client,  # noqa: F811  # the fixture imported above
    scene: Scene,  # noqa: F811  # the fixture imported above
    public_complaints: None,  # noqa: F811  # the fixture imported above
) -> None:
    """The public complaint form: anyone may post it (here the campaign allows it)."""
    c = client_factory()
    code = scene.subs[2].tracking_code
    ok = {"tracking_code": code, "kind": "noi_dung", "body": CORPUS["controls"] + SCRIPT, "filer_name": CORPUS["bidi"]}
    r = c.post("/api/v1/khieu-nai", json=ok)
    assert r.status_code == 201, r.text
    assert read_page(r.text).injected() == [] and r.headers["content-type"].startswith("application/json")
    chair, _ = signed_in(client_factory, scene.chair)
    assert_shown_escaped(chair.get(_detail(code)).text, ok["body"], multiline=True)
    template = orjson.dumps({**ok, "body": "@@"})
    for bad in (
        b"a\\ud800b",  # a lone surrogate, escaped
        b"a\xffb",  # bytes that are not UTF-8
        b"a\xed\xa0\x80b",  # a surrogate encoded in UTF-8
    ):
        raw = template.replace(b"@@", bad)
        r = c.post("/api/v1/khieu-nai", content=raw, headers={"content-type": "application/json"})
        assert r.status_code in (400, 422), (raw[:60], r.status_code, r.text[:300])
        assert VIETNAMESE.search(r.json()["message"])


def test_configuration_names_and_unit_emails(
    client_factory: Client,  # noqa: F811  # the fixture imported above
    scene: Scene,  # noqa: F811  # the fixture imported above
    restore: None,  # noqa: F811  # the fixture imported above
) -> None:
    """The province's administrator: a criterion's name is kept and shown as text; a unit's
    address that is not one mailbox (a header after CR LF, markup, a NUL) is refused naming it."""
    admin, csrf = signed_in(client_factory, scene.admin)
    name = f"{SCRIPT} {CORPUS['controls']} {CORPUS['bidi']}"
    form = {
        "csrf_token": csrf,
        "chuong_trinh": "75k-demo",
        "ten_tinh_moi": name,
        "trong_so_tinh_moi": "25",
        "ten_hieu_qua": CORPUS["jinja"],
        "trong_so_hieu_qua": "35",
        "ten_pham_vi": CORPUS["attr_break"],
        "trong_so_pham_vi": "20",
        "ten_nhan_rong": "Khả năng nhân rộng",
        "trong_so_nhan_rong": "20",
    }
    r = admin.post("/console/cau-hinh/thang-diem", data=form)
    assert r.status_code == 303, r.text[:300]
    page = admin.get(r.headers["location"]).text
    for typed in (name, CORPUS["jinja"], CORPUS["attr_break"]):
        assert_shown_escaped(page, typed)
    # The appraisal form shows the names too.
    chair, _ = signed_in(client_factory, scene.chair)
    assert_shown_escaped(chair.get(_detail(scene.subs[0].tracking_code)).text, name)
    r = admin.post("/console/cau-hinh/thang-diem", data={**form, "trong_so_tinh_moi": "x"})
    assert r.status_code == 422 and read_page(r.text).injected() == []

    for bad in ("donvi@ldld.vn\r\nBcc: ke-gian@example.com", "<script>@ldld.vn", "don\x00vi@ldld.vn", "a@b.vn, c@d.vn"):
        r = admin.post(f"/console/don-vi/{scene.cdcs.id}/email", data={"csrf_token": csrf, "email": bad})
        assert r.status_code == 422, (bad, r.status_code, r.text[:300])
        assert "Địa chỉ email của đơn vị" in r.text and read_page(r.text).injected() == []
