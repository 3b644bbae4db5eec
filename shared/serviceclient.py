"""Calling another service's API on behalf of someone: each call carries a token signed for
them (shared/servicetoken.py: tenant, officer or service, role, audience; two minutes), so the
called service scopes its rows to that tenant by itself. The other service away is a 503 with
the caller's Vietnamese message, never a 500; its 404 stays a 404."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from shared.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceUnavailable
from shared.servicetoken import issue


@dataclass(frozen=True)
class Acting:
    """On whose behalf: an officer (their id, unit and role) or a service (officer_id 0)."""

    tenant_id: int
    officer_id: int
    unit_code: str
    role: str


class ServiceClient:
    def __init__(
        self,
        base_url: str,
        key: Callable[[], bytes],
        *,
        audience: str,
        away: str,
        not_found: str,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.audience = audience
        self.away = away
        self.not_found = not_found
        self.timeout = timeout

    def call(
        self,
        acting: Acting,
        method: str,
        path: str,
        *,
        json: object = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        token = issue(
            self.key(),  # read when called: an app made without keys still starts
            tenant_id=acting.tenant_id,
            officer_id=acting.officer_id,
            unit_code=acting.unit_code,
            role=acting.role,
            aud=self.audience,
        )
        try:
            r = httpx.request(
                method,
                f"{self.base_url}{path}",
                headers={"authorization": f"Bearer {token}"},
                timeout=self.timeout,
                json=json,
                params=params,
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(self.away, retry_after=10) from exc
        if r.status_code == 404:
            raise NotFound(self.not_found)
        if r.status_code == 409:
            raise Conflict(str(r.json().get("message", self.away)))
        if r.status_code in (403, 422):
            # The called service's own Vietnamese refusal (a role, a field) reaches the person as is.
            try:
                body = r.json()
            except ValueError:
                body = {}
            if r.status_code == 403:
                raise Forbidden(str(body.get("message", self.away)))
            raise InvalidInput(str(body.get("message", self.away)), field=body.get("field"))
        if r.status_code >= 400:
            raise ServiceUnavailable(self.away, retry_after=10)
        return r
