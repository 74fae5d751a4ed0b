"""Console accounts in the ledger's ``users`` table: add, list, change, and check a password.

Passwords are hashed with argon2id (argon2-cffi); a hash made with weaker parameters than the
settings' is replaced at the next sign-in. Every change is a ledger transaction audited under the
acting account (``add_user``, ``set_role``, ``disable_user``, ``enable_user``, ``set_password``);
the audit never holds a password or a hash.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa

from allocator.errors import _N, InputError
from allocator.ledger.database import audit, now, transaction
from allocator.ledger.schema import UserRow
from allocator.web.routing import Role

USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,63}")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024


@dataclass(frozen=True)
class Account:
    user_id: str
    role: Role
    created: dt.datetime
    disabled: bool


@cache
def hasher(time_cost: int = 3, memory_kib: int = 65536):
    """An argon2id hasher; the defaults are argon2-cffi's (RFC 9106's second recommendation)."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


@cache
def _decoy(time_cost: int, memory_kib: int) -> str:
    """A hash to check unknown accounts against, so they take as long as known ones."""
    return hasher(time_cost, memory_kib).hash("not a password of anybody")


def check_user_id(user_id: str) -> str:
    user_id = (user_id or "").strip()
    if not USER_ID.fullmatch(user_id):
        raise InputError(
            _N(
                "an account name is 2 to 64 letters, digits, '.', '_' or '-', starting with a "
                "letter or digit; got {name!r}"
            ),
            name=user_id,
            field="name",
        )
    return user_id


def check_role(role: str) -> Role:
    try:
        return Role(str(role).strip().lower())
    except ValueError:
        raise InputError(
            _N("unknown role {role!r}; expected one of {roles}"),
            role=role,
            roles=", ".join(r.value for r in Role),
            field="role",
        ) from None


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise InputError(
            _N("a password has at least {count} characters"), count=MIN_PASSWORD, field="password"
        )
    if len(password) > MAX_PASSWORD:
        raise InputError(
            _N("a password has at most {count} characters"), count=MAX_PASSWORD, field="password"
        )
    return password


def _account(row: UserRow) -> Account:
    return Account(row.user_id, Role(row.role), row.created, bool(row.disabled))


def get_account(engine: sa.Engine, user_id: str) -> Account | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(UserRow).where(UserRow.user_id == user_id)).first()
    if row is None:
        return None
    return Account(row.user_id, Role(row.role), row.created, bool(row.disabled))


def list_accounts(engine: sa.Engine) -> list[Account]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(UserRow).order_by(UserRow.user_id)).all()
    return [Account(r.user_id, Role(r.role), r.created, bool(r.disabled)) for r in rows]


def add_account(
    engine: sa.Engine,
    actor: str | None,
    user_id: str,
    role: str,
    password: str,
    *,
    time_cost: int = 3,
    memory_kib: int = 65536,
) -> Account:
    """A new account; refused if the name is taken or the password too short."""
    user_id, role_ = check_user_id(user_id), check_role(role)
    digest = hasher(time_cost, memory_kib).hash(check_password(password))
    with transaction(engine, actor) as s:
        if s.get(UserRow, user_id) is not None:
            raise InputError(_N("the account {name!r} exists already"), name=user_id, field="name")
        row = UserRow(
            user_id=user_id, role=role_.value, password_hash=digest, created=now(), disabled=False
        )
        s.add(row)
        audit(s, "add_user", "user", user_id, role=role_.value)
    return _account(row)


def _change(engine: sa.Engine, actor: str | None, user_id: str, action: str, **values) -> None:
    """Apply ``values`` to an account; an admin can never remove the last active admin."""
    with transaction(engine, actor) as s:
        row = s.get(UserRow, user_id, with_for_update=True)
        if row is None:
            raise InputError(_N("unknown account {name!r}"), name=user_id, field="name")
        before = (row.role, row.disabled)
        for key, value in values.items():
            setattr(row, key, value)
        s.flush()
        admins = s.scalar(
            sa.select(sa.func.count())
            .select_from(UserRow)
            .where(UserRow.role == Role.ADMIN.value, UserRow.disabled.is_(False))
        )
        if before[0] == Role.ADMIN.value and not before[1] and not admins:
            raise InputError(_N("this is the last active administrator: keep at least one"))
        detail = {k: v for k, v in values.items() if k != "password_hash"}
        audit(s, action, "user", user_id, **detail)


def set_role(engine: sa.Engine, actor: str | None, user_id: str, role: str) -> None:
    _change(engine, actor, user_id, "set_role", role=check_role(role).value)


def set_disabled(engine: sa.Engine, actor: str | None, user_id: str, disabled: bool) -> None:
    action = "disable_user" if disabled else "enable_user"
    _change(engine, actor, user_id, action, disabled=bool(disabled))


def set_password(
    engine: sa.Engine,
    actor: str | None,
    user_id: str,
    password: str,
    *,
    time_cost: int = 3,
    memory_kib: int = 65536,
) -> None:
    digest = hasher(time_cost, memory_kib).hash(check_password(password))
    _change(engine, actor, user_id, "set_password", password_hash=digest)


def verify(
    engine: sa.Engine, user_id: str, password: str, *, time_cost: int = 3, memory_kib: int = 65536
) -> Account | None:
    """The account if ``password`` is its password and it is enabled; else None.

    An unknown name costs one hash check too, so timing does not tell which names exist.
    """
    from argon2.exceptions import InvalidHashError, VerificationError

    ph = hasher(time_cost, memory_kib)
    with engine.connect() as conn:
        row = conn.execute(sa.select(UserRow).where(UserRow.user_id == user_id)).first()
    stored = row.password_hash if row is not None else _decoy(time_cost, memory_kib)
    try:
        ph.verify(stored, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled:
        return None
    if ph.check_needs_rehash(stored):
        with transaction(engine) as s:
            s.execute(
                sa.update(UserRow)
                .where(UserRow.user_id == row.user_id)
                .values(password_hash=ph.hash(password))
            )
    return Account(row.user_id, Role(row.role), row.created, bool(row.disabled))
