"""The ledger's database: where it is, how it is opened and migrated, and how it is written.

Every mutating operation runs in ONE transaction (`transaction`): it commits entirely or not at
all. Operations that change stays or units first `bump` ``ledger_state.version`` inside their
transaction; that row lock (PostgreSQL) or write lock (SQLite, whose transactions here begin
``IMMEDIATE``) serialises writers, so the rule checks done in code before commit see every stay
committed before them. Approving a batch is a compare-and-swap on that version.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from allocator.choices import DB_ENV as DB_ENV
from allocator.errors import _N, AllocatorError, InputError, Message
from allocator.ledger.schema import AuditRow, LedgerState
from allocator.policy import Policy, validate_policy

if TYPE_CHECKING:
    from alembic.config import Config

DEFAULT_DB = "allocator.db"
MIGRATIONS = Path(__file__).parent / "migrations"
_ALEMBIC_LOCK = threading.Lock()


def database_url(url_or_path: str | os.PathLike | None = None, *, create: bool = True) -> str:
    """A SQLAlchemy URL from a URL, a file path, ``$ALLOCATOR_DB`` or ``allocator.db``.

    With ``create=False`` a SQLite file that does not exist is refused rather than created (a
    mistyped ``--db`` would otherwise report an empty ledger): only ``ledger init`` and the
    imports create a ledger.
    """
    target = str(url_or_path or os.environ.get(DB_ENV) or DEFAULT_DB)
    if "://" in target:
        for prefix in ("postgresql://", "postgres://"):
            if target.startswith(prefix):
                return "postgresql+psycopg://" + target[len(prefix) :]
        url = target
    else:
        path = Path(target).expanduser()
        if path.is_dir():
            raise InputError("is a directory, not a ledger file", source=str(path))
        if not path.parent.is_dir():
            raise InputError("the ledger file's folder does not exist", source=str(path))
        url = f"sqlite:///{path.resolve()}"
    file = ledger_file(url)
    if not create and file is not None and not file.exists():
        raise InputError(
            "the ledger file does not exist: run `allocator ledger init` first (or check --db)",
            source=str(url_or_path or file),
        )
    return url


def ledger_file(url: str) -> Path | None:
    """The file a SQLite URL names (None for an in-memory database or another server)."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return None
    database = parsed.database
    if not parsed.drivername.startswith("sqlite") or not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # a SQLite URI: file:path?mode=...
        database = database[len("file:") :].split("?", 1)[0]
    return Path(database).expanduser()


def create_engine(url: str) -> sa.Engine:
    """An engine for ``url``; SQLite gets foreign keys and write-locking transactions."""
    try:
        if url.startswith("sqlite"):
            engine = sa.create_engine(url, connect_args={"timeout": 60})

            @event.listens_for(engine, "connect")
            def _connect(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
                dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
                dbapi_connection.execute("PRAGMA foreign_keys = ON")

            @event.listens_for(engine, "begin")
            def _begin(conn) -> None:
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock up front

            return engine
        return sa.create_engine(url, pool_pre_ping=True)
    except ImportError as exc:
        package = (exc.name or str(exc)).split(".")[0]
        how = (
            "pip install 'allocator[postgres]'"
            if package == "psycopg"
            else f"pip install {package}"
        )
        raise InputError(
            f"this database needs the package {package!r}, which is not installed: {how}",
            source="--db",
        ) from None
    except sa.exc.ArgumentError as exc:
        raise InputError(f"not a usable database URL ({exc})", source="--db") from None


def require_schema(engine: sa.Engine, url: str) -> None:
    """Refuse a database that holds no ledger (never initialised), rather than make it one."""
    if schema_revision(engine) is None:
        where = ledger_file(url)
        raise InputError(
            "this database holds no ledger; create it with `allocator ledger init`",
            source=str(where) if where is not None else "--db",
        )


# --- schema ----------------------------------------------------------------------------------


def alembic_config(connection: sa.Connection) -> Config:
    """Alembic's configuration for our migrations, run on ``connection``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` and make sure the ledger's state row exists."""
    migrate(engine, revision)


def migrate(engine: sa.Engine, revision: str = "head", *, down: bool = False) -> None:
    """Upgrade (or with ``down``, downgrade) the schema to ``revision`` in one transaction.

    SQLite's batch mode rebuilds a table that other tables reference (copy, drop, rename), which
    its foreign-key enforcement would refuse half-way; so on SQLite the migration runs with the
    enforcement off, every reference is checked before it commits, and the enforcement is back
    on before the connection is used again.
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.connect() as conn, _foreign_keys_off(conn), conn.begin():
        cfg = alembic_config(conn)
        current = MigrationContext.configure(conn).get_current_revision()
        script = ScriptDirectory.from_config(cfg).get_revision(revision)
        if current != (script.revision if script is not None else None):
            with _ALEMBIC_LOCK:  # alembic's command API keeps global state
                (command.downgrade if down else command.upgrade)(cfg, revision)
            _check_foreign_keys(conn)
        if not down and conn.execute(sa.select(LedgerState.id)).first() is None:
            conn.execute(
                sa.insert(LedgerState).values(
                    id=1, version=0, policy=Policy().model_dump(mode="json")
                )
            )


@contextmanager
def _foreign_keys_off(conn: sa.Connection) -> Iterator[None]:
    """SQLite only: foreign keys unenforced until the block ends (set outside any transaction,
    where SQLite accepts the pragma: the driver runs in autocommit mode, see `create_engine`)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys = ON")


def _check_foreign_keys(conn: sa.Connection) -> None:
    if conn.dialect.name == "sqlite":
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise AllocatorError(
                f"the schema migration would leave {len(broken)} broken references "
                f"(first: table {broken[0][0]}); the ledger is left as it was"
            )


def schema_revision(engine: sa.Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


# --- transactions ----------------------------------------------------------------------------


def now() -> dt.datetime:
    """UTC to the second, without a time zone: what the DateTime columns hold."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


@contextmanager
def transaction(engine: sa.Engine, actor: str | None = None) -> Iterator[Session]:
    """One transaction; database refusals become one-line `InputError`/`AllocatorError`.

    ``actor`` is who the audit trail names for changes made in it (see `audit`).
    """
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            session.info["actor"] = actor
            yield session
    except sa.exc.IntegrityError as exc:
        raise InputError(_N("refused by the database: {reason}"), reason=str(exc.orig)) from None
    except sa.exc.DatabaseError as exc:
        raise AllocatorError(
            Message(
                _N("the ledger is busy or unreachable ({reason}); try again"), reason=str(exc.orig)
            )
        ) from None


def bump(s: Session, expected: int | None = None) -> int:
    """Bump the ledger version (taking the writers' lock); compare-and-swap if expected."""
    stmt = sa.update(LedgerState).where(LedgerState.id == 1)
    if expected is not None:
        stmt = stmt.where(LedgerState.version == expected)
    stmt = stmt.values(version=LedgerState.version + 1).returning(LedgerState.version)
    new = s.execute(stmt).scalar_one_or_none()
    if new is None:
        current = s.execute(sa.select(LedgerState.version)).scalar_one()
        raise InputError(
            _N(
                "the ledger has changed since this batch was proposed (version {expected}, now "
                "{current}): another batch was approved or a stay or unit changed meanwhile; "
                "propose the week again"
            ),
            expected=expected,
            current=current,
        )
    return new


def audit(s: Session, action: str, entity: str, entity_id: object, **detail: Any) -> None:
    """Record a change; ``actor=`` in ``detail`` names who, else the transaction's actor."""
    actor = detail.pop("actor", None) or s.info.get("actor")
    clean = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in detail.items()}
    s.add(
        AuditRow(
            at=now(),
            actor=actor,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            detail=clean,
        )
    )


# --- the state row: version and policy -------------------------------------------------------


def read_policy(s: Session | sa.Connection) -> Policy:
    return validate_policy(
        s.execute(sa.select(LedgerState.policy)).scalar_one(), source="ledger policy"
    )


def read_version(s: Session | sa.Connection) -> int:
    return s.execute(sa.select(LedgerState.version)).scalar_one()


def write_policy(s: Session, policy: Policy) -> None:
    """Store ``policy`` as the ledger's; a change bumps the version and is audited with the
    old and new value of each field that changed (``changed``) and the whole new policy."""
    state = s.get_one(LedgerState, 1, with_for_update=True)
    new = policy.model_dump(mode="json")
    if state.policy != new:
        before = state.policy or {}
        changed = {
            k: {"old": before.get(k), "new": new.get(k)}
            for k in sorted(set(before) | set(new))
            if before.get(k) != new.get(k)
        }
        state.policy = new
        state.version += 1
        audit(s, "set_policy", "ledger", 1, changed=changed, policy=new)
