"""The session store in Redis: opaque ids, hashed keys, idle and absolute expiry."""

from __future__ import annotations

import hashlib
import json
import time

import redis

from services.review.accounts.sessions import PREFIX, SessionStore, csrf_matches


def _store(redis_url: str, idle: int = 60, max_age: int = 3600) -> SessionStore:
    return SessionStore(redis.Redis.from_url(redis_url), idle_seconds=idle, max_seconds=max_age)


def test_ids_are_random_and_stored_only_hashed(redis_url: str) -> None:
    store = _store(redis_url)
    sid, data = store.create_signed_in(tenant_id=38, officer_id=1, password_hash="$argon2id$x")
    assert len(sid) >= 43 and data.signed_in
    assert store.client.get(PREFIX + sid) is None  # the id itself is not a key
    assert store.client.exists(PREFIX + hashlib.sha256(sid.encode()).hexdigest())
    assert store.get(sid) == data
    assert store.get("x" * 43) is None and store.get(None) is None and store.get("x" * 500) is None


def test_idle_timeout_ends_a_session_and_use_renews_it(redis_url: str) -> None:
    store = _store(redis_url, idle=1)
    sid, _ = store.create_anonymous()
    key = PREFIX + hashlib.sha256(sid.encode()).hexdigest()
    time.sleep(0.6)
    assert store.get(sid) is not None  # used: the idle timer starts again
    assert store.client.pttl(key) > 600
    time.sleep(1.2)
    assert store.get(sid) is None


def test_a_signed_in_session_has_a_maximum_age(redis_url: str) -> None:
    store = _store(redis_url, max_age=300)
    sid, _ = store.create_signed_in(tenant_id=38, officer_id=1, password_hash="h")
    key = PREFIX + hashlib.sha256(sid.encode()).hexdigest()
    old = json.loads(store.client.get(key) or b"{}")
    old["created"] = time.time() - 301
    store.client.set(key, json.dumps(old), ex=60)
    assert store.get(sid) is None
    assert not store.client.exists(key)


def test_csrf_comparison(redis_url: str) -> None:
    _, data = _store(redis_url).create_anonymous()
    assert csrf_matches(data, data.csrf)
    assert not csrf_matches(data, data.csrf[:-1] + "A" if data.csrf[-1] != "A" else data.csrf[:-1] + "B")
    assert not csrf_matches(data, None) and not csrf_matches(data, "") and not csrf_matches(None, data.csrf)
