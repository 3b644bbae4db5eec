"""Intake's HTTP contract on a real server: status codes, headers, Vietnamese errors."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable

import httpx
import orjson
import pytest

from tests.intake.conftest import Server, form

URL = "/api/v1/submissions"


def post(server: Server, body: object, **headers: str) -> httpx.Response:
    return httpx.post(
        server.url + URL, content=orjson.dumps(body), headers={"content-type": "application/json", **headers}
    )


def test_units_and_children(intake: Server) -> None:
    units = httpx.get(intake.url + "/api/v1/units").json()
    codes = {u["code"]: u for u in units}
    assert len([u for u in units if u["kind"] == "province"]) == 63
    assert len([u for u in units if u["kind"] == "central_sector"]) == 20
    assert codes["thanh-hoa"]["name"] == "Liên đoàn Lao động tỉnh Thanh Hóa"
    cb = httpx.get(intake.url + "/api/v1/units/cao-bang").json()
    assert cb["name"] == "Liên đoàn Lao động tỉnh Cao Bằng"
    kids = {c["code"]: c["name"] for c in cb["children"]}
    assert kids["H045"] == "Liên đoàn Lao động huyện Hà Quảng" and "cao-bang" not in kids
    r = httpx.get(intake.url + "/api/v1/units/khong-co")
    assert r.status_code == 404 and r.json()["message"] == "Không tìm thấy đơn vị"


def test_campaign_window_is_shown(intake: Server) -> None:
    c = httpx.get(intake.url + "/api/v1/campaign").json()
    assert c["state"] == "open" and c["closes_at_text"].startswith("24:00 ngày ")
    assert {f["code"] for f in c["fields"]} >= {"san_xuat", "khac"} and c["description_max"] == 1000


def test_422_names_each_field_without_echoing_digits(intake: Server) -> None:
    r = post(intake, form(phone="0912 345 678 999", id_number="1234", field="xyz"))
    assert r.status_code == 422
    errs = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert set(errs) == {"phone", "id_number", "field"}
    assert "912345678" not in r.text and "345 678" not in r.text and "1234" not in r.text


def test_unknown_unit_and_foreign_subunit(intake: Server) -> None:
    r = post(intake, form(unit="atlantis"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "unit"
    r = post(intake, form(unit="thanh-hoa", subunit="H045"))  # Hà Quảng is in Cao Bằng, not Thanh Hóa
    assert r.status_code == 422 and r.json()["errors"] == [
        {"field": "subunit", "message": "Đơn vị trực thuộc không thuộc đơn vị đã chọn"}
    ]


def test_not_json(intake: Server) -> None:
    r = httpx.post(intake.url + URL, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"


def test_idempotency_key_replays_and_refuses_other_body(intake: Server) -> None:
    key = str(uuid.uuid4())
    body = form(phone="0903000001")
    a = post(intake, body, **{"Idempotency-Key": key})
    b = post(intake, body, **{"Idempotency-Key": key})
    assert a.status_code == b.status_code == 202
    assert a.json()["tracking_code"] == b.json()["tracking_code"]
    c = post(intake, form(phone="0903000001", title="Một sáng kiến khác"), **{"Idempotency-Key": key})
    assert c.status_code == 409 and "Idempotency-Key" in c.json()["message"]
    d = post(intake, body)  # no key: a second, separate submission
    assert d.status_code == 202 and d.json()["tracking_code"] != a.json()["tracking_code"]


def test_413_by_content_length(intake: Server) -> None:
    r = httpx.post(intake.url + URL, content=b"x" * 20_000, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "vượt quá" in r.json()["message"]


def test_413_counts_bytes_received_when_content_length_lies(intake: Server) -> None:
    """A chunked body has no Content-Length; the limit must hold on the bytes themselves."""
    chunk = b"a" * 4096
    with socket.create_connection(("127.0.0.1", intake.port), timeout=5) as s:
        s.sendall(
            b"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        try:
            for _ in range(64):  # 256 KiB offered; the server must stop well before
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass
        head = s.recv(4096)
    assert head.startswith(b"HTTP/1.1 413"), head[:80]


def test_429_per_phone_with_retry_after(intake_factory: Callable[..., Server]) -> None:
    server = intake_factory(rate_limit_per_phone=3)
    codes = [post(server, form(phone="0904000002")).status_code for _ in range(4)]
    assert codes == [202, 202, 202, 429]
    r = post(server, form(phone="0904000002"))
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.json()["field"] == "phone" and "0904000002" not in r.text
    assert post(server, form(phone="0904000003")).status_code == 202  # another phone is not affected


def test_429_per_ip_behind_a_trusted_proxy(intake_factory: Callable[..., Server]) -> None:
    server = intake_factory(rate_limit_per_ip=2, trusted_proxies="127.0.0.1/32")
    fwd = {"X-Forwarded-For": "203.0.113.7"}
    got = [post(server, form(phone=f"090500000{i}"), **fwd).status_code for i in range(3)]
    assert got == [202, 202, 429]
    assert post(server, form(phone="0905000009"), **{"X-Forwarded-For": "203.0.113.8"}).status_code == 202
    # A client cannot escape its limit by prepending a forged address.
    forged = {"X-Forwarded-For": "1.2.3.4, 203.0.113.7"}
    assert post(server, form(phone="0905000008"), **forged).status_code == 429


def test_503_over_high_water_never_202(intake_factory: Callable[..., Server]) -> None:
    server = intake_factory(stream_high_water=0)
    r = post(server, form(phone="0906000001"))
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert "vui lòng gửi lại" in r.json()["message"]


def test_closed_campaign_says_when(intake_factory: Callable[..., Server]) -> None:
    server = intake_factory(intake_campaign="75k-2021")
    r = post(server, form())
    assert r.status_code == 403
    assert r.json()["message"].startswith("Cổng tiếp nhận sáng kiến đã đóng lúc 24:00 ngày 20/04/2021")
    assert httpx.get(server.url + "/api/v1/campaign").json()["state"] == "closed"


@pytest.mark.parametrize("typed", ["{code}", "{lower}", "{spaced}"])
def test_tracking_accepts_what_people_type(intake: Server, typed: str) -> None:
    code = post(intake, form(phone="0907000001")).json()["tracking_code"]
    variants = {"code": code, "lower": code.lower(), "spaced": code.replace("-", " ")}
    r = httpx.get(f"{intake.url}/api/v1/submissions/{typed.format(**variants)}", params={"phone": "0907 000 001"})
    assert r.status_code == 200 and r.json()["tracking_code"] == code


def test_tracking_404_never_says_which_part_is_wrong(intake: Server) -> None:
    code = post(intake, form(phone="0908000001")).json()["tracking_code"]
    wrong_phone = httpx.get(f"{intake.url}/api/v1/submissions/{code}", params={"phone": "0908000002"})
    unknown = httpx.get(f"{intake.url}/api/v1/submissions/4-ZZZZ-ZZZZ", params={"phone": "0908000001"})
    assert wrong_phone.status_code == unknown.status_code == 404
    assert wrong_phone.json() == unknown.json()


def test_tracking_phone_in_a_header_keeps_it_out_of_urls(intake: Server) -> None:
    code = post(intake, form(phone="0909000001")).json()["tracking_code"]
    r = httpx.get(f"{intake.url}/api/v1/submissions/{code}", headers={"X-Phone": "0909 000 001"})
    assert r.status_code == 200 and r.json()["tracking_code"] == code
    none = httpx.get(f"{intake.url}/api/v1/submissions/{code}")
    assert none.status_code == 422 and none.json()["errors"][0]["field"] == "phone"


def test_blank_idempotency_keys_are_not_shared(intake: Server) -> None:
    import http.client

    def raw_post(phone: str) -> tuple[int, str]:
        # httpx refuses a blank header value; some clients send one all the same.
        c = http.client.HTTPConnection("127.0.0.1", intake.port, timeout=5)
        c.putrequest("POST", URL)
        c.putheader("Content-Type", "application/json")
        c.putheader("Idempotency-Key", " ")
        body = orjson.dumps(form(phone=phone))
        c.putheader("Content-Length", str(len(body)))
        c.endheaders(body)
        r = c.getresponse()
        out = (r.status, orjson.loads(r.read()).get("tracking_code", ""))
        c.close()
        return out

    (sa, ca), (sb, cb) = raw_post("0909000002"), raw_post("0909000003")
    assert sa == sb == 202 and ca != cb


def test_unicode_digits_in_birth_year_are_a_field_error(intake: Server) -> None:
    r = post(intake, form(birth_year="²"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "birth_year"


def test_forwarded_for_lines_are_read_together_and_garbage_is_not_believed() -> None:
    import ipaddress

    from services.intake.api import TrustedProxies, forwarded_client

    trusted = TrustedProxies([ipaddress.ip_network("127.0.0.1/32")])
    # Two header lines joined: the proxy's own line (the real client) comes last.
    assert forwarded_client("127.0.0.1", "6.6.6.6,203.0.113.9", trusted) == "203.0.113.9"
    assert forwarded_client("127.0.0.1", "203.0.113.9, unknown", trusted) == "127.0.0.1"
    assert forwarded_client("198.51.100.1", "203.0.113.9", trusted) == "198.51.100.1"  # untrusted peer


def test_tracking_look_ups_are_limited_per_address(intake_factory: Callable[..., Server]) -> None:
    server = intake_factory(rate_limit_tracking_per_ip=3, trusted_proxies="127.0.0.1/32")
    fwd = {"X-Forwarded-For": "198.51.100.77", "X-Phone": "0909000004"}
    got = [httpx.get(f"{server.url}/api/v1/submissions/4-ZZZZ-ZZZ{i}", headers=fwd).status_code for i in range(4)]
    assert (
        got[3] == 429
        and int(httpx.get(f"{server.url}/api/v1/submissions/4-ZZZZ-ZZZZ", headers=fwd).headers["retry-after"]) >= 1
    )
    other = {"X-Forwarded-For": "198.51.100.78", "X-Phone": "0909000004"}
    assert httpx.get(f"{server.url}/api/v1/submissions/4-ZZZZ-ZZZZ", headers=other).status_code != 429
