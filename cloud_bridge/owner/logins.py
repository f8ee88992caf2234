"""Owner logins: one shop per login, passwords kept only as argon2id hashes (argon2-cffi's defaults).

An unknown user costs the same hash check as a known one, so the answer's timing does not tell which user
names exist. A hash made with older parameters is replaced on the next good login.
"""

from __future__ import annotations

import time
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cloud_bridge import models as m
from cloud_bridge.errors import BridgeError

MIN_PASSWORD: Final = 10

_HASHER: Final = PasswordHasher()
_DUMMY: Final = _HASHER.hash("not a password anyone has")


class LoginError(BridgeError, ValueError):
    """A login that cannot be set as asked; the message says why."""


def set_login(user: str, shop: str, password: str, now: float | None = None) -> None:
    """Creates the login, or gives it a new password (and shop)."""
    if not user or len(user) > 64 or not user.isprintable() or user.strip() != user:
        raise LoginError("user: 1 to 64 printable characters, no spaces around them")
    if len(password) < MIN_PASSWORD:
        raise LoginError(f"password: at least {MIN_PASSWORD} characters")
    row = {"shop": shop, "password_hash": _HASHER.hash(password), "created_at": now or time.time()}
    m.OwnerLogin.insert(user=user, **row).on_conflict(
        conflict_target=[m.OwnerLogin.user], update=row
    ).execute()


def check_login(user: str, password: str) -> str | None:
    """The shop this user may see, or None for a wrong user or password."""
    row = m.OwnerLogin.get_or_none(m.OwnerLogin.user == user)
    try:
        _HASHER.verify(_DUMMY if row is None else row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if _HASHER.check_needs_rehash(row.password_hash):
        m.OwnerLogin.update(password_hash=_HASHER.hash(password)).where(m.OwnerLogin.user == user).execute()
    return str(row.shop)
