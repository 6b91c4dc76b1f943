"""Accounts: passwords (Argon2id, argon2-cffi), sessions and CSRF tokens.

- A password is stored only as its Argon2id hash (argon2-cffi's defaults, RFC 9106's
  low-memory profile); a hash made with older parameters is re-hashed at the next login.
- A session is a random 256-bit token in an ``HttpOnly``, ``SameSite=Lax`` cookie
  (``Secure`` when the page is served over https); the database keeps only its SHA-256,
  so a copy of the database opens no session.
- Every form carries the session's CSRF token (the synchroniser-token pattern); the login
  form, before any session exists, a token that must equal a cookie set with the form
  (double submit). :func:`check_csrf` compares in constant time.
- Roles are ordered: viewer < analyst < admin; :func:`allowed` says whether a role may.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DbSession

from workbench.db import ROLES, Session, User, utcnow

SESSION_COOKIE = "wb_session"
LOGIN_CSRF_COOKIE = "wb_login_csrf"
SESSION_HOURS = 12
MIN_PASSWORD = 8
USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")

_hasher = PasswordHasher()


class AuthError(Exception):
    """A refused account operation; ``str()`` is the one line shown to the user."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AuthError(
            f"密码至少 {MIN_PASSWORD} 个字符 / the password needs {MIN_PASSWORD} characters or more"
        )
    return _hasher.hash(password)


def check_username(name: str) -> str:
    name = name.strip().lower()
    if not (1 <= len(name) <= 64) or not set(name) <= USERNAME_CHARS:
        raise AuthError(
            "用户名只能用小写字母、数字和 _ . - / a user name is 1–64 of a–z, 0–9, _ . -"
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    return role


def allowed(role: str, needed: str) -> bool:
    """``role`` may do what ``needed`` may (roles are ordered viewer < analyst < admin)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def add_user(db: DbSession, username: str, password: str, role: str, *, by: str) -> User:
    """Create a user (the caller commits). Raises :class:`AuthError` when the name is
    taken or invalid, the role unknown or the password too short."""
    name = check_username(username)
    check_role(role)
    if db.scalar(select(User).where(User.username == name)) is not None:
        raise AuthError(f"用户 {name} 已存在 / user {name} exists")
    user = User(
        username=name, password_hash=hash_password(password), role=role, active=True, created_by=by
    )
    db.add(user)
    return user


def authenticate(db: DbSession, username: str, password: str) -> User | None:
    """The active user with this name and password, else None (same work either way)."""
    user = db.scalar(select(User).where(User.username == username.strip().lower()))
    stored = user.password_hash if user is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: DbSession, user: User) -> tuple[str, Session]:
    """A new session for ``user``: returns the cookie's token and the row (caller commits)."""
    token = secrets.token_urlsafe(32)
    row = Session(
        token_hash=_digest(token),
        csrf_token=secrets.token_urlsafe(32),
        user_id=user.id,
        expires_at=utcnow() + dt.timedelta(hours=SESSION_HOURS),
    )
    db.add(row)
    return token, row


def find_session(db: DbSession, token: str | None) -> Session | None:
    """The live session of a cookie's token, with its active user; None otherwise."""
    if not token:
        return None
    row = db.scalar(select(Session).where(Session.token_hash == _digest(token)))
    if row is None:
        return None
    expires = row.expires_at
    if expires.tzinfo is None:  # SQLite gives naive datetimes back
        expires = expires.replace(tzinfo=dt.UTC)
    if expires <= utcnow() or not row.user.active:
        return None
    return row


def close_session(db: DbSession, token: str | None) -> None:
    if token:
        db.execute(delete(Session).where(Session.token_hash == _digest(token)))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def check_csrf(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of a form's token with the expected one."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
