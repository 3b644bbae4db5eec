"""What other parts of review take from the accounts package, as FastAPI dependencies:

* ``current_officer`` — the signed-in :class:`Officer` (401 when there is none). For POST,
  PUT, PATCH and DELETE it also checks the CSRF token (header ``X-CSRF-Token`` or form field
  ``csrf_token``) against the session's, and refuses what a browser says came from another
  site (``Origin``, ``Sec-Fetch-Site``: :func:`cross_site`) even with the token, so every
  state-changing endpoint that acts as an officer is protected by depending on it — nothing
  to remember per route.
* ``officer_session`` — a Session whose transactions are scoped to the officer's tenant
  (``SET LOCAL app.tenant_id``), committed after the handler like ``services.review.deps``.
* ``require_role(Role.x, …)`` — ``current_officer`` plus a role check (403).
* ``page_officer`` / ``page_session`` — the same for console pages, where a browser without a
  session is redirected to the sign-in form rather than answered 401.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.accounts.service import principal_for
from services.review.accounts.sessions import SessionData, SessionStore, csrf_matches
from services.review.accounts.throttle import LoginThrottle
from services.review.config import ReviewSettings
from shared.db import tenant_session
from shared.errors import Forbidden, Unauthorized

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
LOGIN_PATH = "/console/dang-nhap"
CSRF_MESSAGE = "Phiên làm việc không hợp lệ hoặc đã hết hạn. Vui lòng tải lại trang rồi thử lại."
CROSS_SITE_MESSAGE = (
    "Yêu cầu được gửi từ một trang web khác nên đã bị từ chối. Vui lòng thao tác ngay trên trang của hệ thống."
)
# What Sec-Fetch-Site may say of a state-changing request the console's own pages sent.
OWN_SITE = frozenset({"same-origin", "none"})


def _settings(request: Request) -> ReviewSettings:
    settings: ReviewSettings = request.app.state.settings
    return settings


def cookie_name(settings: ReviewSettings) -> str:
    # The __Host- prefix makes the browser refuse the cookie unless it is Secure, for this host
    # only, with Path=/ — no subdomain can plant or shadow it. Plain http dev cannot use it.
    return "__Host-sangkien_phien" if settings.console_cookie_secure else "sangkien_phien"


def session_store(request: Request) -> SessionStore:
    s = _settings(request)
    return SessionStore(
        request.app.state.redis_sync,
        idle_seconds=s.console_session_idle_seconds,
        max_seconds=s.console_session_max_seconds,
    )


def login_throttle(request: Request) -> LoginThrottle:
    s = _settings(request)
    return LoginThrottle(
        request.app.state.redis_sync,
        per_user=s.console_login_attempts_per_user,
        per_ip=s.console_login_attempts_per_ip,
        window_seconds=s.console_login_window_seconds,
    )


def client_ip(request: Request) -> str:
    # uvicorn runs with proxy_headers (shared/cli.py): the peer it reports is already the client
    # as forwarded by a trusted proxy (FORWARDED_ALLOW_IPS), never a header the client wrote.
    return request.client.host if request.client else "unknown"


def session_id(request: Request) -> str | None:
    return request.cookies.get(cookie_name(_settings(request)))


def console_session(request: Request) -> SessionData | None:
    """The browser's session (anonymous or signed in), its idle timer renewed; cached on the
    request so that templates and the CSRF check read the same one."""
    if not hasattr(request.state, "console_session"):
        request.state.console_session = session_store(request).get(session_id(request))
    data: SessionData | None = request.state.console_session
    return data


async def submitted_csrf(request: Request) -> str | None:
    """The token a state-changing request carries; None for safe methods."""
    if request.method not in UNSAFE_METHODS:
        return None
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)  # Starlette caches the parsed form
        token = value if isinstance(value, str) else None
    return token


def optional_officer(request: Request) -> Officer | None:
    """The signed-in officer, or None (pages redirect to the sign-in form instead of a 401)."""
    data = console_session(request)
    if data is None or not data.signed_in:
        return None
    with tenant_session(request.app.state.sessions, data.tenant_id) as s:
        officer = principal_for(s, data)
    if officer is None:  # deactivated, password reset, unit gone: this session is over
        session_store(request).delete(session_id(request))
        request.state.console_session = None
    return officer


def cross_site(request: Request) -> bool:
    """A browser says this request comes from a page of another site: Sec-Fetch-Site other
    than same-origin (a sibling subdomain is "same-site", and may be anyone's), or an Origin
    that is neither this host nor the console's public address ("null" included: a sandboxed
    frame, a document of no origin). Checked besides the CSRF token, not instead of it: a
    client that sends neither header (an old browser, a script) still needs the token."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in OWN_SITE:
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    netloc = urlsplit(origin).netloc.lower()
    if not netloc:
        return True
    own = {request.headers.get("host", "").lower(), urlsplit(_settings(request).public_url).netloc.lower()}
    return netloc not in own


def _check_csrf(request: Request, csrf: str | None) -> None:
    if request.method not in UNSAFE_METHODS:
        return
    if cross_site(request):
        raise Forbidden(CROSS_SITE_MESSAGE)
    if not csrf_matches(console_session(request), csrf):
        raise Forbidden(CSRF_MESSAGE)


def current_officer(
    request: Request,
    csrf: Annotated[str | None, Depends(submitted_csrf)],
    officer: Annotated[Officer | None, Depends(optional_officer)],
) -> Officer:
    """For the JSON API: 401 without a signed-in officer, 403 without the CSRF token."""
    if officer is None:
        raise Unauthorized("Bạn chưa đăng nhập hoặc phiên làm việc đã hết hạn")
    _check_csrf(request, csrf)
    return officer


CurrentOfficer = Annotated[Officer, Depends(current_officer)]


def page_officer(
    request: Request,
    csrf: Annotated[str | None, Depends(submitted_csrf)],
    officer: Annotated[Officer | None, Depends(optional_officer)],
) -> Officer:
    """For console pages: the same, but a browser without a session is sent to the sign-in
    form (303) instead of being shown a 401."""
    if officer is None:
        raise HTTPException(status.HTTP_303_SEE_OTHER, headers={"Location": LOGIN_PATH})
    _check_csrf(request, csrf)
    return officer


PageOfficer = Annotated[Officer, Depends(page_officer)]


def officer_session(request: Request, officer: CurrentOfficer) -> Iterator[Session]:
    """The request's transaction under the officer's tenant; commits after the handler."""
    with tenant_session(request.app.state.sessions, officer.tenant_id) as s:
        yield s


# scope="function": the commit happens before the response leaves. With FastAPI's default
# ("request") it ran after the response was sent, so a 303 could be followed before the change
# was committed (the next page showed the old state), and a failed commit came after a success.
OfficerSession = Annotated[Session, Depends(officer_session, scope="function")]


def page_session(request: Request, officer: PageOfficer) -> Iterator[Session]:
    """``officer_session`` for console pages (redirects to sign-in instead of 401)."""
    with tenant_session(request.app.state.sessions, officer.tenant_id) as s:
        yield s


PageSession = Annotated[Session, Depends(page_session, scope="function")]


def require_role(*roles: Role) -> Callable[[Officer], Officer]:
    """``Depends(require_role(Role.chu_tich))``: the officer, if their role is one of these."""
    allowed = frozenset(roles)

    def dependency(officer: CurrentOfficer) -> Officer:
        if officer.role not in allowed:
            raise Forbidden("Vai trò của bạn không được thực hiện thao tác này")
        return officer

    return dependency
