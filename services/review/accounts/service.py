"""Officers' sign-in, sessions and accounts: the rules. No FastAPI here; functions only flush,
and the caller's scope or request session commits.

Visibility: an officer acts on their unit and every unit below it, in their tenant only.
Another tenant's rows are invisible under row-level security, and a unit or officer of the same
tenant outside the officer's subtree is answered the same way — 404, never 403 — so that a
probe cannot tell "exists elsewhere" from "does not exist". 403 is kept for "you can see it
but your role may not do this".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.review.accounts import repository as repo
from services.review.accounts.models import ROLE_LABELS, OfficerAccount, Role
from services.review.accounts.passwords import hash_password, needs_rehash, temporary_password, verify_password
from services.review.accounts.principal import Officer, login_name
from services.review.accounts.schemas import (
    OfficerCreate,
    OfficerCreated,
    OfficerOut,
    PasswordReset,
    PasswordResetOut,
    UnitOut,
)
from services.review.accounts.sessions import SessionData, SessionStore, password_fingerprint
from services.review.accounts.throttle import LoginThrottle
from services.review.models import UNIT_KIND_LABELS, Unit
from shared.db import TenantScope
from shared.errors import Conflict, Forbidden, NotFound, Unauthorized

INVALID_LOGIN = "Tên đăng nhập hoặc mật khẩu không đúng"
OFFICER_NOT_FOUND = "Không tìm thấy cán bộ"
UNIT_NOT_FOUND = "Không tìm thấy đơn vị"
LOGIN_NAME_MAX = 120


@dataclass(frozen=True)
class SignedIn:
    session_id: str
    session: SessionData
    officer_id: int
    tenant_id: int


def parse_login_name(raw: str) -> tuple[str, str] | None:
    """``username@tenant-code`` → (username, tenant code), lower-cased; None if not that shape."""
    name = raw.strip().lower()
    username, sep, tenant_code = name.rpartition("@")
    if not sep or not username or not tenant_code:
        return None
    return username, tenant_code


def sign_in(
    scope: TenantScope,
    throttle: LoginThrottle,
    store: SessionStore,
    *,
    login: str,
    password: str,
    client_ip: str,
    previous_session_id: str | None,
    now: dt.datetime,
) -> SignedIn:
    """Check the password and open a new session (the previous id is discarded: rotation).

    Every failure — unknown tenant, unknown name, inactive account, wrong password — gives the
    same answer after the same Argon2 cost; a locked name or address answers 429 before any
    look-up, existing or not."""
    normalised = login.strip().lower()[:LOGIN_NAME_MAX]
    throttle.check(normalised, client_ip)
    parsed = parse_login_name(normalised)
    account: OfficerAccount | None = None
    tenant_id: int | None = None
    if parsed is not None:
        username, tenant_code = parsed
        with scope(None) as s:
            tenant = repo.tenant_by_code(s, tenant_code)
            tenant_id = tenant.id if tenant is not None else None
        if tenant_id is not None:
            with scope(tenant_id) as s:
                account = repo.officer_by_username(s, tenant_id, username)
    usable = account is not None and account.is_active
    ok = verify_password(account.password_hash if account is not None and usable else None, password)
    if not ok or account is None or tenant_id is None:
        throttle.failed(normalised, client_ip)
        raise Unauthorized(INVALID_LOGIN)
    throttle.succeeded(normalised, client_ip)
    password_hash = account.password_hash
    new_hash = hash_password(password) if needs_rehash(password_hash) else None
    with scope(tenant_id) as s:
        repo.touch_login(s, tenant_id, account.id, at=now, new_hash=new_hash)
    store.delete(previous_session_id)
    session_id, data = store.create_signed_in(
        tenant_id=tenant_id, officer_id=account.id, password_hash=new_hash or password_hash
    )
    return SignedIn(session_id=session_id, session=data, officer_id=account.id, tenant_id=tenant_id)


def principal_for(session: Session, data: SessionData) -> Officer | None:
    """The officer a signed-in session stands for, read afresh on every request: a deactivated
    account or a reset password ends its sessions at once."""
    if data.tenant_id is None or data.officer_id is None:
        return None
    account = repo.officer_by_id(session, data.tenant_id, data.officer_id)
    if account is None or not account.is_active or password_fingerprint(account.password_hash) != data.password_fp:
        return None
    tenant = repo.tenant_by_id(session, account.tenant_id)
    unit = repo.unit_by_id(session, account.tenant_id, account.unit_id)
    if tenant is None or unit is None:
        return None
    return Officer(
        tenant_id=account.tenant_id,
        id=account.id,
        unit_id=account.unit_id,
        role=Role(account.role),
        name=account.full_name,
        username=account.username,
        tenant_code=tenant.code,
        unit_name=unit.name,
    )


# --- reach ---------------------------------------------------------------------------------------


def units_in_reach(session: Session, officer: Officer) -> frozenset[int]:
    """Ids of the officer's unit and every unit below it, in the officer's tenant."""
    return frozenset(repo.subtree_unit_ids(session, officer.tenant_id, officer.unit_id))


def unit_names_in_reach(session: Session, officer: Officer) -> dict[str, str]:
    """The same units by code (what other services' rows name a unit by), with their names."""
    return repo.unit_names(session, officer.tenant_id, units_in_reach(session, officer))


def ensure_unit_in_reach(session: Session, officer: Officer, unit_id: int) -> None:
    if unit_id not in units_in_reach(session, officer):
        raise NotFound(UNIT_NOT_FOUND, field="unit_id")


def reachable_units(session: Session, officer: Officer) -> list[UnitOut]:
    units = repo.units_by_ids(session, officer.tenant_id, units_in_reach(session, officer))
    return [_unit_out(u) for u in units]


# --- accounts (quản trị) ---------------------------------------------------------------------------


def _require_admin(officer: Officer) -> None:
    if officer.role is not Role.quan_tri:
        raise Forbidden("Chỉ cán bộ quản trị được quản lý tài khoản")


def list_officers(session: Session, officer: Officer) -> list[OfficerOut]:
    _require_admin(officer)
    reach = units_in_reach(session, officer)
    names = _unit_names(session, officer, reach)
    tenant_code = officer.tenant_code
    return [_out(a, tenant_code, names) for a in repo.officers_in_units(session, officer.tenant_id, reach)]


def get_officer(session: Session, officer: Officer, officer_id: int) -> OfficerOut:
    _require_admin(officer)
    account, names = _account_in_reach(session, officer, officer_id)
    return _out(account, officer.tenant_code, names)


def create_officer(session: Session, officer: Officer, data: OfficerCreate) -> OfficerCreated:
    _require_admin(officer)
    reach = units_in_reach(session, officer)
    if data.unit_id not in reach:
        raise NotFound(UNIT_NOT_FOUND, field="unit_id")
    if repo.officer_by_username(session, officer.tenant_id, data.username) is not None:
        raise Conflict("Tên đăng nhập này đã được dùng trong đơn vị", field="username")
    generated = None if data.password else temporary_password()
    account = OfficerAccount(
        tenant_id=officer.tenant_id,
        unit_id=data.unit_id,
        username=data.username,
        full_name=data.full_name,
        email=data.email,
        role=data.role.value,
        password_hash=hash_password(data.password or generated or ""),
        is_active=True,
        is_demo=False,
    )
    try:
        with session.begin_nested():  # two administrators choosing the same name at once
            repo.add_officer(session, account)
    except IntegrityError as exc:
        raise Conflict("Tên đăng nhập này đã được dùng trong đơn vị", field="username") from exc
    session.refresh(account)
    names = _unit_names(session, officer, [data.unit_id])
    return OfficerCreated(officer=_out(account, officer.tenant_code, names), temporary_password=generated)


def set_active(session: Session, officer: Officer, officer_id: int, *, active: bool) -> OfficerOut:
    _require_admin(officer)
    account, names = _account_in_reach(session, officer, officer_id)
    if account.id == officer.id and not active:
        raise Conflict("Không thể tự khoá tài khoản của chính mình")
    account.is_active = active
    session.flush()
    return _out(account, officer.tenant_code, names)


def reset_password(session: Session, officer: Officer, officer_id: int, data: PasswordReset) -> PasswordResetOut:
    """A new password set by the administrator; the officer's open sessions end with the old
    hash (their fingerprint no longer matches)."""
    _require_admin(officer)
    account, names = _account_in_reach(session, officer, officer_id)
    generated = None if data.password else temporary_password()
    account.password_hash = hash_password(data.password or generated or "")
    session.flush()
    return PasswordResetOut(officer=_out(account, officer.tenant_code, names), temporary_password=generated)


def _account_in_reach(session: Session, officer: Officer, officer_id: int) -> tuple[OfficerAccount, dict[int, str]]:
    account = repo.officer_by_id(session, officer.tenant_id, officer_id)
    reach = units_in_reach(session, officer)
    if account is None or account.unit_id not in reach:
        raise NotFound(OFFICER_NOT_FOUND)
    return account, _unit_names(session, officer, [account.unit_id])


def _unit_names(session: Session, officer: Officer, unit_ids: frozenset[int] | list[int]) -> dict[int, str]:
    return {u.id: u.name for u in repo.units_by_ids(session, officer.tenant_id, unit_ids)}


def _unit_out(u: Unit) -> UnitOut:
    return UnitOut(
        id=u.id,
        code=u.code,
        name=u.name,
        kind=u.kind,
        kind_label=UNIT_KIND_LABELS.get(u.kind, u.kind),
        parent_id=u.parent_id,
    )


def _out(a: OfficerAccount, tenant_code: str, unit_names: dict[int, str]) -> OfficerOut:
    role = Role(a.role)
    return OfficerOut(
        id=a.id,
        username=a.username,
        login_name=login_name(a.username, tenant_code),
        full_name=a.full_name,
        email=a.email,
        role=role,
        role_label=ROLE_LABELS[role],
        unit_id=a.unit_id,
        unit_name=unit_names.get(a.unit_id, ""),
        is_active=a.is_active,
        is_demo=a.is_demo,
        created_at=a.created_at,
        last_login_at=a.last_login_at,
    )
