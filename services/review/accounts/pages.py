"""The console's pages under /console: sign-in, sign-out, the landing page, the stylesheet.
Rendering and cookies only; the rules are in service.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from services.review.accounts import service
from services.review.accounts.deps import (
    CROSS_SITE_MESSAGE,
    CSRF_MESSAGE,
    LOGIN_PATH,
    PageOfficer,
    PageSession,
    client_ip,
    console_session,
    cookie_name,
    cross_site,
    login_throttle,
    optional_officer,
    session_id,
    session_store,
    submitted_csrf,
)
from services.review.accounts.principal import Officer
from services.review.accounts.sessions import SessionData, csrf_matches
from services.review.accounts.templating import CSS, render
from services.review.config import ReviewSettings
from shared.db import tenant_scope
from shared.errors import TooManyRequests, Unauthorized
from shared.timeutil import now

router = APIRouter(prefix="/console", include_in_schema=False)
HOME_PATH = "/console/"


def _settings(request: Request) -> ReviewSettings:
    settings: ReviewSettings = request.app.state.settings
    return settings


def _set_cookie(request: Request, response: Response, sid: str) -> None:
    # No Max-Age: the browser forgets it when closed; the server's idle timeout ends it sooner.
    # SameSite=Lax (not Strict) so that a link to the console in an email opens signed in;
    # cross-site POSTs carry no cookie either way, and the CSRF token covers same-site ones.
    settings = _settings(request)
    response.set_cookie(
        cookie_name(settings), sid, path="/", secure=settings.console_cookie_secure, httponly=True, samesite="lax"
    )


def _clear_cookie(request: Request, response: Response) -> None:
    settings = _settings(request)
    response.delete_cookie(
        cookie_name(settings), path="/", secure=settings.console_cookie_secure, httponly=True, samesite="lax"
    )


def _form_session(request: Request) -> tuple[SessionData, str | None]:
    """The session the sign-in form's CSRF token belongs to: the browser's own, or a new
    anonymous one (its id returned, to be set as the cookie)."""
    existing = console_session(request)
    if existing is not None:
        return existing, None
    sid, data = session_store(request).create_anonymous()
    request.state.console_session = data
    return data, sid


def _login_page(
    request: Request,
    *,
    status: int = 200,
    error: str | None = None,
    login: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    _, new_sid = _form_session(request)
    response = render(
        request,
        "console/dang_nhap.html",
        officer=None,
        status=status,
        headers=headers,
        title="Đăng nhập",
        error=error,
        login=login,
    )
    if new_sid:
        _set_cookie(request, response, new_sid)
    return response


@router.get("/static/console.css")
def stylesheet() -> Response:
    # The URL carries the file's hash (templating.css_url): cache it for a year.
    return Response(CSS, media_type="text/css; charset=utf-8", headers={"Cache-Control": "public, max-age=31536000"})


@router.get("/dang-nhap")
def login_form(request: Request, officer: Annotated[Officer | None, Depends(optional_officer)]) -> Response:
    if officer is not None:
        return RedirectResponse(HOME_PATH, 303)
    return _login_page(request)


@router.post("/dang-nhap")
def login(
    request: Request,
    login: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if cross_site(request):
        # Signing a browser in to an account of someone else's choosing (login CSRF) is refused
        # even with a token that page may have fetched.
        return _login_page(request, status=403, error=CROSS_SITE_MESSAGE, login=login)
    if not csrf_matches(console_session(request), csrf_token):
        # An expired form (or a forged post): a fresh form, with a fresh token, says so.
        return _login_page(request, status=403, error=CSRF_MESSAGE, login=login)
    try:
        signed_in = service.sign_in(
            tenant_scope(request.app.state.sessions),
            login_throttle(request),
            session_store(request),
            login=login,
            password=password,
            client_ip=client_ip(request),
            previous_session_id=session_id(request),
            now=now(),
        )
    except (Unauthorized, TooManyRequests) as exc:
        return _login_page(request, status=exc.status_code, error=exc.message, login=login, headers=exc.headers)
    response = RedirectResponse(HOME_PATH, 303)
    _set_cookie(request, response, signed_in.session_id)
    return response


@router.post("/dang-xuat")
def logout(request: Request, csrf: Annotated[str | None, Depends(submitted_csrf)]) -> Response:
    data = console_session(request)
    foreign = cross_site(request)
    if data is not None and (foreign or not csrf_matches(data, csrf)):
        return render(
            request,
            "console/thong_bao.html",
            officer=None,
            status=403,
            title="Không thể đăng xuất",
            message=CROSS_SITE_MESSAGE if foreign else CSRF_MESSAGE,
            back_href=HOME_PATH,
            back_label="Về trang chính",
        )
    session_store(request).delete(session_id(request))
    response = RedirectResponse(LOGIN_PATH, 303)
    _clear_cookie(request, response)
    return response


@router.get("/")
def home(request: Request, officer: PageOfficer, session: PageSession) -> Response:
    return render(
        request,
        "console/trang_chu.html",
        officer=officer,
        title="Trang chính",
        unit_count=len(service.units_in_reach(session, officer)),
    )
