"""What the hot path does faster does the same: the message encoded without pydantic, the HMAC
with its key's states kept, the normalisation shortcuts, the directory's cached answer, the
trusted-proxy verdicts kept per address, and the accept script's claims and refusals."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import ipaddress
import random
import re
import unicodedata
import uuid
from typing import Any

import orjson
import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from services.intake import validation
from services.intake.api import TrustedProxies, forwarded_client
from services.intake.directory import Directory
from services.intake.repository import AcceptCall, StreamAppender
from services.intake.service import message_fields, new_submission_id
from services.intake.validation import CleanSubmission
from shared.contracts.directory import CampaignEntry, DirectorySnapshot
from shared.contracts.submissions import SealedField, SubmissionMessage, new_tracking_code
from shared.pii import HmacSha256, PiiCipher

# --- the stream message ---------------------------------------------------------------------

optional_text = st.none() | st.text(min_size=1, max_size=40)


@settings(max_examples=200)
@given(
    full_name=st.text(min_size=2, max_size=60),
    title=st.text(min_size=1, max_size=80),
    description=st.text(min_size=1, max_size=300),
    birth_year=st.none() | st.integers(1930, 2012),
    optional=st.tuples(*[optional_text] * 6),
    tenant_id=st.integers(0, 999),
    micro=st.integers(0, 999_999),
)
def test_the_message_is_what_the_model_would_serialise(
    full_name: str,
    title: str,
    description: str,
    birth_year: int | None,
    optional: tuple[str | None, ...],
    tenant_id: int,
    micro: int,
) -> None:
    position, workplace, email, applied_from, benefit, awards = optional
    clean = CleanSubmission(
        full_name=full_name, id_number="001203004567", phone="0912345678", unit="H04", subunit="H045",
        group="khoi_co_quan", field="khac", title=title, description=description, birth_year=birth_year,
        position=position, workplace=workplace, email=email, applied_from=applied_from, benefit=benefit,
        awards=awards,
    )  # fmt: skip
    cipher = PiiCipher("k1", {"k1": b"K" * 32}, b"H" * 32)
    id_sealed, phone_sealed = cipher.seal(clean.id_number, kind="id_number"), cipher.seal(clean.phone, kind="phone")
    at = dt.datetime(2026, 11, 23, 8, 0, 0, micro, tzinfo=dt.UTC)
    fields = message_fields(clean, "75k-demo", tenant_id, id_sealed, phone_sealed, at)
    fields["submission_id"] = new_submission_id()
    fields["tracking_code"] = new_tracking_code(tenant_id)
    encoded = orjson.dumps(fields, option=orjson.OPT_UTC_Z)
    model = SubmissionMessage(
        submission_id=fields["submission_id"], tracking_code=fields["tracking_code"], campaign="75k-demo",
        tenant_id=tenant_id, tenant=clean.unit, subunit=clean.subunit, full_name=clean.full_name,
        id_number=SealedField(ct=id_sealed.ciphertext, h=id_sealed.digest),
        phone=SealedField(ct=phone_sealed.ciphertext, h=phone_sealed.digest),
        group=clean.group, field=clean.field, title=clean.title, description=clean.description,
        birth_year=clean.birth_year, position=clean.position, workplace=clean.workplace, email=clean.email,
        applied_from=clean.applied_from, benefit=clean.benefit, awards=clean.awards, submitted_at=at,
    )  # fmt: skip
    assert encoded == model.model_dump_json().encode()
    assert SubmissionMessage.model_validate_json(encoded) == model


def test_submission_ids_are_uuid4_hex() -> None:
    ids = {new_submission_id() for _ in range(2000)}
    assert len(ids) == 2000
    for i in list(ids)[:200]:
        u = uuid.UUID(hex=i)
        assert u.version == 4 and u.variant == uuid.RFC_4122 and u.hex == i and len(i) == 32


# --- HMAC -----------------------------------------------------------------------------------


@given(key=st.binary(max_size=130), data=st.binary(max_size=3000))
def test_hmac_with_kept_states_is_hmac(key: bytes, data: bytes) -> None:
    mac = HmacSha256(key)
    assert mac(data) == hmac.digest(key, data, "sha256")
    assert mac(data) == mac(data)  # the kept states are not consumed


def test_cipher_digest_is_unchanged() -> None:
    cipher = PiiCipher("k1", {"k1": b"K" * 32}, b"H" * 32)
    assert cipher.digest("0912345678", kind="phone") == hmac.digest(b"H" * 32, b"phone:0912345678", "sha256")
    sealed = cipher.seal("0912345678", kind="phone")
    assert cipher.open(sealed.ciphertext, kind="phone") == "0912345678"
    assert sealed.ciphertext[:4] == bytes([1, 2]) + b"k1"


# --- normalisation --------------------------------------------------------------------------

# Controls but tab and line breaks, C1 but NEL, bidirectional and zero-width characters, U+FFFE/F
# (shared/text.py says why).
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x84\x86-\x9f"
    "\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufffe\uffff]"
)


def _nfc_before(s: str) -> str:
    return unicodedata.normalize("NFC", _CONTROL.sub("", s))


def _line_before(v: str) -> str:
    return re.sub(r"\s+", " ", _nfc_before(v)).strip()


def _text_before(v: str) -> str:
    lines = re.sub("[\x85\u2028\u2029]", "\n", _nfc_before(v).replace("\r\n", "\n").replace("\r", "\n")).split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


texts = st.text(
    alphabet=st.sampled_from(
        list(
            "aăâbcdđeêoôơuưy AĂÂĐ\t\n\r\x00\x07\x0b\x1f\x7f\x85\x9f\xa0\u2028\u3000\u0301\u0323\u0300.,-"
            "\u200b\u200d\u202e\u2066\ufeff"
        )
    )
    | st.characters(),
    max_size=200,
)


@settings(max_examples=500)
@given(texts)
def test_one_line_and_multi_line_fields_are_normalised_as_before(v: str) -> None:
    assert validation._line(v) == _line_before(v)
    assert validation._text(v) == _text_before(v)


# --- the directory's campaign ---------------------------------------------------------------


def _campaign(code: str, opens: dt.datetime, closes: dt.datetime) -> CampaignEntry:
    return CampaignEntry(code=code, name=code, tree="2021", opens_at=opens, closes_at=closes)


def test_the_served_campaign_is_the_one_computed_at_every_instant() -> None:
    vn = dt.timezone(dt.timedelta(hours=7))
    t0 = dt.datetime(2026, 1, 1, tzinfo=vn)
    day = dt.timedelta(days=1)
    snapshot = DirectorySnapshot(
        published_at=t0,
        campaigns=[
            _campaign("a", t0, t0 + 10 * day),
            _campaign("b", t0 + 5 * day, t0 + 20 * day),
            _campaign("c", t0 + 30 * day, t0 + 40 * day),
        ],
        trees={},
    )
    d = Directory(snapshot, "v1")
    instants = [t0 + dt.timedelta(hours=h) for h in range(-48, 45 * 24, 7)]
    instants += [c.opens_at for c in snapshot.campaigns] + [c.closes_at for c in snapshot.campaigns]
    instants += [i - dt.timedelta(microseconds=1) for i in instants]
    random.Random(7).shuffle(instants)
    for at in instants:
        for zone in (dt.UTC, vn):
            assert d.campaign(at.astimezone(zone)) is d._campaign_at(at), at
    assert d.campaign(t0, "b") is snapshot.campaigns[1] and d.campaign(t0, "nope") is None
    a = snapshot.campaigns[0]
    assert d.window(a) == (a.opens_at, a.closes_at) and d.window(a)[0].tzinfo is dt.UTC


# --- trusted proxies ------------------------------------------------------------------------


def test_trusted_proxy_verdicts_are_kept_per_address() -> None:
    trusted = TrustedProxies([ipaddress.ip_network("10.0.0.0/8")])
    for _ in range(2):  # the second round answers from what was kept
        assert forwarded_client("10.1.1.1", "203.0.113.9", trusted) == "203.0.113.9"
        assert forwarded_client("10.1.1.1", "203.0.113.9, 10.2.2.2", trusted) == "203.0.113.9"
        assert forwarded_client("10.1.1.1", "unknown", trusted) == "10.1.1.1"
        assert forwarded_client("198.51.100.1", "203.0.113.9", trusted) == "198.51.100.1"
    assert trusted.trusts("x" * 200) is None and "x" * 200 not in trusted._seen
    assert not TrustedProxies([]) and forwarded_client("10.1.1.1", "203.0.113.9", TrustedProxies([])) == "10.1.1.1"


# --- the accept script ----------------------------------------------------------------------


def _call(n: int, **over: Any) -> AcceptCall:
    base: dict[str, Any] = {
        "stream": "hot-path-test", "status_key": f"sub:HP-{n}", "idempotency_key": "", "ip_key": "rl:hp:ip",
        "phone_key": "rl:hp:ph", "message": b"{}", "high_water": 10**6, "status_ttl": 600, "idempotency_value": "",
        "idempotency_ttl": 300, "ip_limit": 100, "phone_limit": 100, "window": 60,
        "status_fields": ("s", "queued", "p", "digest", "t", "2026-11-23T08:00:00+00:00"),
    }  # fmt: skip
    return AcceptCall(**(base | over))


@pytest.fixture
def accept(redis_url: str) -> Any:
    client = redis.Redis.from_url(redis_url)

    def clean() -> None:
        keys = [*client.scan_iter("sub:HP-*"), *client.scan_iter("rl:hp:*"), *client.scan_iter("idem:hp*")]
        client.delete("hot-path-test", *keys)

    clean()

    def run(*calls: AcceptCall) -> list[tuple[str, str]]:
        async def go() -> list[tuple[str, str]]:
            import redis.asyncio as aioredis

            aclient = aioredis.from_url(redis_url)
            appender = StreamAppender(aclient)
            try:
                return [await appender.accept(c) for c in calls]
            finally:
                await appender.stop()
                await aclient.aclose()

        return asyncio.run(go())

    yield run, client
    clean()


def test_the_script_claims_and_answers_the_idempotency_key(accept: Any) -> None:
    run, client = accept
    (kind, _), (replay, code), (conflict, _) = run(
        _call(1, idempotency_key="idem:hp1", idempotency_value="v1"),
        _call(2, idempotency_key="idem:hp1", idempotency_value="v1"),
        _call(3, idempotency_key="idem:hp1", idempotency_value="v2"),
    )
    assert (kind, replay, code, conflict) == ("ok", "replay", "HP-1", "idem_conflict")
    assert client.get("idem:hp1") == b"v1|HP-1" and 0 < client.ttl("idem:hp1") <= 300
    assert client.hgetall("sub:HP-1") == {b"s": b"queued", b"p": b"digest", b"t": b"2026-11-23T08:00:00+00:00"}
    assert 0 < client.ttl("sub:HP-1") <= 600
    assert not client.exists("sub:HP-2") and not client.exists("sub:HP-3")
    assert client.xlen("hot-path-test") == 1
    assert int(client.get("rl:hp:ph")) == 1 and 0 < client.ttl("rl:hp:ph") <= 60  # replays count nothing


def test_a_refusal_gives_the_idempotency_key_back(accept: Any) -> None:
    run, client = accept
    client.hset("sub:HP-1", "s", "queued")  # a tracking code already taken
    got = run(
        _call(1, idempotency_key="idem:hp2", idempotency_value="v"),  # collision
        _call(2, idempotency_key="idem:hp3", idempotency_value="v", high_water=0),  # full
        _call(3, idempotency_key="idem:hp4", idempotency_value="v", ip_limit=1),  # rate_ip (2nd hit on the address)
        _call(4, idempotency_key="idem:hp5", idempotency_value="v", phone_limit=1),  # rate_phone (2nd on the phone)
        _call(5, idempotency_key="idem:hp2", idempotency_value="v"),  # the retry after the collision: queued
    )
    assert [k for k, _ in got] == ["collision", "full", "rate_ip", "rate_phone", "ok"]
    assert not client.exists("idem:hp3", "idem:hp4", "idem:hp5")
    assert client.get("idem:hp2") == b"v|HP-5"
    assert client.xlen("hot-path-test") == 1


def test_the_counters_expire_with_their_window(accept: Any) -> None:
    run, client = accept
    got = run(*[_call(i, phone_limit=3) for i in range(1, 6)])
    assert [k for k, _ in got] == ["ok", "ok", "ok", "rate_phone", "rate_phone"]
    assert int(client.get("rl:hp:ph")) == 5 and int(client.get("rl:hp:ip")) == 5
    assert 0 < client.ttl("rl:hp:ph") <= 60 and 0 < client.ttl("rl:hp:ip") <= 60
    assert [k for k, _ in run(_call(9, phone_key="rl:hp:ph2", phone_limit=0))] == ["rate_phone"]
