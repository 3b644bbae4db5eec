"""Console sessions, kept server-side in Redis under an opaque random id.

The cookie carries 256 random bits; Redis is keyed by their SHA-256, so a copy of Redis (a
dump, a replica) holds no usable session id. A session is either anonymous (the sign-in form's
CSRF token, nothing else) or signed in. Signing in always starts a new session: the id the
browser held before is deleted, so an id planted before sign-in is worth nothing after it.
Each read slides the idle expiry (Redis TTL); a signed-in session also ends a fixed time after
sign-in whatever its use. The session remembers a fingerprint of the password hash it was
opened with: a password reset ends every session of that officer without any index of them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass

import redis

PREFIX = "console:session:"


@dataclass(frozen=True)
class SessionData:
    csrf: str
    created: float
    tenant_id: int | None = None
    officer_id: int | None = None
    password_fp: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.tenant_id is not None and self.officer_id is not None


def password_fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


def csrf_matches(session: SessionData | None, given: str | None) -> bool:
    """Constant-time comparison of the request's token with the session's."""
    if session is None or not given:
        return False
    return hmac.compare_digest(session.csrf.encode(), given.encode())


class SessionStore:
    def __init__(self, client: redis.Redis, *, idle_seconds: int, max_seconds: int) -> None:
        self.client = client
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds

    @staticmethod
    def _key(session_id: str) -> str:
        return PREFIX + hashlib.sha256(session_id.encode()).hexdigest()

    def _save(self, data: SessionData) -> str:
        session_id = secrets.token_urlsafe(32)
        self.client.set(self._key(session_id), json.dumps(asdict(data)), ex=self.idle_seconds)
        return session_id

    def create_anonymous(self) -> tuple[str, SessionData]:
        data = SessionData(csrf=secrets.token_urlsafe(32), created=time.time())
        return self._save(data), data

    def create_signed_in(self, *, tenant_id: int, officer_id: int, password_hash: str) -> tuple[str, SessionData]:
        data = SessionData(
            csrf=secrets.token_urlsafe(32),
            created=time.time(),
            tenant_id=tenant_id,
            officer_id=officer_id,
            password_fp=password_fingerprint(password_hash),
        )
        return self._save(data), data

    def get(self, session_id: str | None) -> SessionData | None:
        """The session, its idle expiry renewed; ``None`` when unknown, idle too long or past
        its maximum age (then deleted)."""
        if not session_id or len(session_id) > 128:
            return None
        key = self._key(session_id)
        pipe = self.client.pipeline(transaction=False)
        pipe.get(key)
        pipe.expire(key, self.idle_seconds, xx=True)
        raw, _ = pipe.execute()
        if raw is None:
            return None
        try:
            data = SessionData(**json.loads(raw))
        except (TypeError, ValueError):
            self.client.delete(key)
            return None
        if data.signed_in and time.time() - data.created > self.max_seconds:
            self.client.delete(key)
            return None
        return data

    def delete(self, session_id: str | None) -> None:
        if session_id:
            self.client.delete(self._key(session_id))
