"""Sign-in throttling in Redis: failed attempts counted per login name and per client address
over a fixed window. The check comes before any database read and counts any string typed as
a login name, so a locked name answers the same whether or not an officer has it. A success
clears the name's counter but not the address's: an attacker with one valid account could
otherwise reset their address's count between guesses at other names."""

from __future__ import annotations

import hashlib

import redis

from shared.errors import TooManyRequests

PREFIX = "console:login-failures:"
LOCKED_MESSAGE = "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút."


class LoginThrottle:
    def __init__(self, client: redis.Redis, *, per_user: int, per_ip: int, window_seconds: int) -> None:
        self.client = client
        self.per_user = per_user
        self.per_ip = per_ip
        self.window = window_seconds

    def _keys(self, login_name: str, client_ip: str) -> tuple[str, str]:
        digest = hashlib.sha256(login_name.encode()).hexdigest()[:32]
        return PREFIX + "user:" + digest, PREFIX + "ip:" + client_ip

    def check(self, login_name: str, client_ip: str) -> None:
        """Raises TooManyRequests (429, Retry-After) while either counter is at its limit."""
        user_key, ip_key = self._keys(login_name, client_ip)
        pipe = self.client.pipeline(transaction=False)
        for key in (user_key, ip_key):
            pipe.get(key)
            pipe.ttl(key)
        user_n, user_ttl, ip_n, ip_ttl = pipe.execute()
        waits = [
            ttl if ttl and ttl > 0 else self.window
            for n, ttl, limit in ((user_n, user_ttl, self.per_user), (ip_n, ip_ttl, self.per_ip))
            if n is not None and int(n) >= limit
        ]
        if waits:
            raise TooManyRequests(LOCKED_MESSAGE, retry_after=max(waits))

    def failed(self, login_name: str, client_ip: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        for key in self._keys(login_name, client_ip):
            pipe.incr(key)
            pipe.expire(key, self.window, nx=True)  # the window starts at the first failure
        pipe.execute()

    def succeeded(self, login_name: str, client_ip: str) -> None:
        self.client.delete(self._keys(login_name, client_ip)[0])
