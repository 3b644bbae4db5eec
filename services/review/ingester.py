"""The review ingester process: the consumer of the ``submissions`` stream.

This foundation creates the consumer group and keeps a heartbeat key that the liveness probe
and the operators read; reading, committing and acknowledging batches is issue #3's work and
lands here.
"""

from __future__ import annotations

import os
import signal
import socket
import threading

import redis

from services.review.config import ReviewSettings
from shared.logging import get_logger

HEARTBEAT_TTL = 30


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def ensure_group(client: redis.Redis, stream: str, group: str) -> None:
    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def main() -> None:
    settings = ReviewSettings()
    log = get_logger("review.ingester")
    client = redis.Redis.from_url(settings.redis_url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    name = consumer_name()
    while not stop.is_set():
        try:
            ensure_group(client, settings.submissions_stream, settings.ingester_group)
            break
        except redis.ConnectionError:
            log.warning("redis unreachable, retrying")
            stop.wait(1)
    log.info("ingester ready", stream=settings.submissions_stream, group=settings.ingester_group, consumer=name)
    while not stop.is_set():
        try:
            client.set(f"review:ingester:heartbeat:{name}", "1", ex=HEARTBEAT_TTL)
        except redis.ConnectionError:
            log.warning("redis unreachable")
        stop.wait(HEARTBEAT_TTL / 3)
    log.info("ingester stopped")
