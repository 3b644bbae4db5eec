"""Floods against a real intake server (uvicorn, the worker's Redis): from one address, with one
phone, with one ID number. Each flood is answered 429 with an integer Retry-After and a
Vietnamese message (naming the field for the phone and the ID number, never repeating them),
exactly past its limit; while it runs, ordinary people posting from other addresses with their
own phones and numbers are all answered 202. Only what was answered 202 reached the stream.

The addresses are told to intake the way the ingress does (X-Forwarded-For from a trusted
proxy). How much the flood costs the others' latency is a speed claim: bench/flood.py measures it.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
import redis

from shared.config import CommonSettings
from shared.pii import PHONE, PiiCipher, normalize_phone
from tests.support.stack import Server, form

WINDOW = 60
IP_LIMIT = 30
PHONE_LIMIT = 10
ID_LIMIT = 10

MESSAGES = {
    "ip": ("Có quá nhiều lượt gửi từ cùng một địa chỉ mạng, vui lòng thử lại sau", None),
    "phone": ("Số điện thoại này đã gửi quá nhiều lần trong thời gian ngắn, vui lòng thử lại sau", "phone"),
    "id": ("Số CMND/CCCD này đã gửi quá nhiều lần trong thời gian ngắn, vui lòng thử lại sau", "id_number"),
}


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    retry_after: str | None


def address() -> str:
    """A fresh documentation address per client and run: counters left in Redis by an earlier
    run in the same minute are never this run's."""
    return f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


def phone() -> str:
    return f"09{secrets.randbelow(10**8):08d}"


def id_number() -> str:
    return f"0{secrets.randbelow(10**11):011d}"


def person(**over: Any) -> dict[str, Any]:
    return form(phone=phone(), id_number=id_number(), **over)


@pytest.fixture
def stream(worker_id_str: str, redis_url: str) -> Iterator[str]:
    name = f"submissions-flood-{worker_id_str}"
    client = redis.Redis.from_url(redis_url)
    client.delete(name)
    yield name
    client.delete(name)


@pytest.fixture
def flood_intake(intake_factory: Callable[..., Server], stream: str) -> Server:
    return intake_factory(
        submissions_stream=stream,
        rate_window_seconds=WINDOW,
        rate_limit_per_ip=IP_LIMIT,
        rate_limit_per_phone=PHONE_LIMIT,
        rate_limit_per_id_number=ID_LIMIT,
        trusted_proxies="127.0.0.1/32",
    )


async def _post(client: httpx.AsyncClient, body: dict[str, Any], ip: str) -> Answer:
    r = await client.post(
        "/api/v1/submissions",
        content=orjson.dumps(body),
        headers={"content-type": "application/json", "x-forwarded-for": ip},
    )
    return Answer(r.status_code, r.json(), r.headers.get("retry-after"))


def slot() -> int:
    """The counters' window now."""
    return int(time.time()) // WINDOW


def run_flood(
    url: str, flood: list[tuple[dict[str, Any], str]], others: list[tuple[dict[str, Any], str]]
) -> tuple[list[Answer], list[Answer], int]:
    """The flood (16 at a time) and the others (paced over the flood's first moments) at once;
    with the counters' window they began in."""

    async def go() -> tuple[list[Answer], list[Answer]]:
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
            gate = asyncio.Semaphore(16)

            async def flooded(body: dict[str, Any], ip: str) -> Answer:
                async with gate:
                    return await _post(client, body, ip)

            async def ordinary(body: dict[str, Any], ip: str, delay: float) -> Answer:
                await asyncio.sleep(delay)
                return await _post(client, body, ip)

            flood_task = asyncio.gather(*(flooded(b, ip) for b, ip in flood))
            other_task = asyncio.gather(*(ordinary(b, ip, 0.02 * i) for i, (b, ip) in enumerate(others)))
            return list(await flood_task), list(await other_task)

    began = slot()
    flood_answers, other_answers = asyncio.run(go())
    return flood_answers, other_answers, began


def check_flood(answers: list[Answer], limit: int, kind: str, began: int) -> int:
    one_window = began == slot()
    accepted = [a for a in answers if a.status == 202]
    refused = [a for a in answers if a.status != 202]
    # Exactly the limit gets through in one window; a flood that straddled two may get twice.
    if one_window:
        assert len(accepted) == limit, [a.status for a in answers]
    else:
        assert limit <= len(accepted) <= 2 * limit
    message, field = MESSAGES[kind]
    for a in refused:
        assert a.status == 429, a
        assert a.retry_after is not None and a.retry_after.isdigit(), a.retry_after
        assert 1 <= int(a.retry_after) <= WINDOW
        assert a.body["message"] == message and a.body.get("field") == field
    return len(accepted)


def others(n: int) -> list[tuple[dict[str, Any], str]]:
    """Ordinary people: each their own address, phone and number."""
    return [(person(title=f"Sáng kiến của người thứ {i}"), address()) for i in range(n)]


def test_a_flood_from_one_address(flood_intake: Server, stream: str, redis_url: str) -> None:
    ip = address()
    client = redis.Redis.from_url(redis_url)
    # Before the flood, one of its submissions under an Idempotency-Key (its answer then lost).
    early = person()
    key = {"x-forwarded-for": ip, "idempotency-key": secrets.token_hex(16)}
    first = httpx.post(f"{flood_intake.url}/api/v1/submissions", json=early, headers=key)
    assert first.status_code == 202
    flood = [(person(), ip) for _ in range(3 * IP_LIMIT)]
    got, theirs, began = run_flood(flood_intake.url, flood, others(12))
    n = check_flood(got, IP_LIMIT - 1, "ip", began)
    assert [a.status for a in theirs] == [202] * len(theirs), theirs
    assert client.xlen(stream) == 1 + n + len(theirs)  # nothing refused was queued
    if began != slot():
        return  # the window turned during the flood: what follows is about one window
    # Past its limit the address is refused by intake itself: Redis's counter no longer moves.
    counter = f"rl:ip:{ip}:{began}"
    seen = int(client.get(counter) or 0)
    more = [httpx.post(f"{flood_intake.url}/api/v1/submissions", json=person(), headers={"x-forwarded-for": ip})]
    assert [r.status_code for r in more] == [429] and int(more[0].headers["retry-after"]) >= 1
    assert more[0].json()["message"] == MESSAGES["ip"][0]
    assert int(client.get(counter) or 0) == seen
    # The lost answer asked again under its key is still the same submission (Redis replays it).
    again = httpx.post(f"{flood_intake.url}/api/v1/submissions", json=early, headers=key)
    assert again.status_code == 202 and again.json()["tracking_code"] == first.json()["tracking_code"]
    assert client.xlen(stream) == 1 + n + len(theirs)


def test_a_flood_with_one_phone(flood_intake: Server, stream: str, redis_url: str, settings: CommonSettings) -> None:
    shared_phone = phone()
    # Many addresses and numbers, one phone: the phone's limit stops it, not the address's.
    flood = [(form(phone=shared_phone, id_number=id_number()), address()) for _ in range(4 * PHONE_LIMIT)]
    got, theirs, began = run_flood(flood_intake.url, flood, others(12))
    n = check_flood(got, PHONE_LIMIT, "phone", began)
    assert [a.status for a in theirs] == [202] * len(theirs), theirs
    digits = shared_phone[1:]
    assert all(digits not in orjson.dumps(a.body).decode() for a in got)
    client = redis.Redis.from_url(redis_url)
    assert client.xlen(stream) == n + len(theirs)
    if began == slot():
        # Refused by intake itself from now on, from any address: the phone's counter stays.
        digest = PiiCipher.from_settings(settings).digest(normalize_phone(shared_phone), kind=PHONE).hex()
        counter = f"rl:ph:{digest[:32]}:{began}"
        seen = int(client.get(counter) or 0)
        assert seen >= PHONE_LIMIT
        r = httpx.post(
            f"{flood_intake.url}/api/v1/submissions",
            json=form(phone=shared_phone, id_number=id_number()),
            headers={"x-forwarded-for": address()},
        )
        assert r.status_code == 429 and r.json()["field"] == "phone"
        assert int(client.get(counter) or 0) == seen


def test_a_flood_with_one_id_number(flood_intake: Server, stream: str, redis_url: str) -> None:
    """One person changing the phone each time: the number on the card still stops them. The
    counter is the number's keyed hash; the number is nowhere in Redis's keys."""
    number = id_number()
    flood = [(form(phone=phone(), id_number=number), address()) for _ in range(4 * ID_LIMIT)]
    got, theirs, began = run_flood(flood_intake.url, flood, others(12))
    n = check_flood(got, ID_LIMIT, "id", began)
    assert [a.status for a in theirs] == [202] * len(theirs), theirs
    assert all(number not in orjson.dumps(a.body).decode() for a in got)
    client = redis.Redis.from_url(redis_url)
    assert client.xlen(stream) == n + len(theirs)
    keys = [k.decode() for k in client.scan_iter("rl:*", count=1000)]
    assert any(k.startswith("rl:id:") for k in keys)
    assert not [k for k in keys if number in k]
    # The same number again later in the window is still refused, with any phone and address.
    again = httpx.post(
        f"{flood_intake.url}/api/v1/submissions",
        json=form(phone=phone(), id_number=number),
        headers={"x-forwarded-for": address()},
    )
    if began == slot():  # still the flood's window (else the limit has rightly started again)
        assert again.status_code == 429 and again.json()["field"] == "id_number"


def test_a_flood_of_look_ups_from_one_address(intake_factory: Callable[..., Server], stream: str) -> None:
    """Guessing tracking codes from one address: 429 past the limit; another address looks up
    its own submission all the while."""
    server = intake_factory(
        submissions_stream=stream,
        rate_limit_tracking_per_ip=20,
        trusted_proxies="127.0.0.1/32",
        rate_window_seconds=WINDOW,
    )
    mine = person()
    r = httpx.post(f"{server.url}/api/v1/submissions", json=mine, headers={"x-forwarded-for": address()})
    assert r.status_code == 202
    code = r.json()["tracking_code"]
    guesser, owner = address(), address()

    async def go() -> tuple[list[httpx.Response], list[httpx.Response]]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
            guesses = asyncio.gather(
                *(
                    c.get(
                        f"/api/v1/submissions/4-ZZZZ-{i:04d}",
                        headers={"x-forwarded-for": guesser, "x-phone": "0912345678"},
                    )
                    for i in range(120)
                )
            )
            own = asyncio.gather(
                *(
                    c.get(f"/api/v1/submissions/{code}", headers={"x-forwarded-for": owner, "x-phone": mine["phone"]})
                    for _ in range(5)
                )
            )
            return list(await guesses), list(await own)

    began = slot()
    guesses, own = asyncio.run(go())
    statuses = [g.status_code for g in guesses]
    assert set(statuses) <= {404, 429} and 429 in statuses
    if began == slot():
        assert statuses.count(404) == 20
    for g in guesses:
        if g.status_code == 429:
            assert g.headers["retry-after"].isdigit() and 1 <= int(g.headers["retry-after"]) <= WINDOW
            assert g.json()["message"] == "Tra cứu quá nhiều lần trong thời gian ngắn, vui lòng thử lại sau"
    assert [o.status_code for o in own] == [200] * 5
