"""`Ledger`: the rotation ledger's one entry point (units, requests, weekly batches, stays).

Every mutating operation runs in ONE database transaction: it commits entirely or not at all.
Operations that change stays or units first bump ``ledger_state.version`` inside their
transaction; that row lock (PostgreSQL) or write lock (SQLite, whose transactions here begin
``IMMEDIATE``) serialises writers, so the rule checks done in code before commit (no overlap
including turnover, capacity, availability window, one stay per household) see every stay
committed before them. Approving a batch is a compare-and-swap on that version: a batch can be
approved only while the ledger is exactly as it was when the batch was proposed, so two planners
approving at once can never double-book a unit; the second gets an `InputError`.

Only pseudonymous ids, request fields and dates are stored; logs carry counts, never ids.

The class only holds the connection and who acts; the work is done by the modules beside it:
`database` (opening, migrations, transactions), `rules` (the checks), `imports`, `batches`,
`stays` (move-in, exit, extension), `reading` (stored tables) and `views` (status, history).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from allocator.errors import _N, AllocatorError, InputError
from allocator.ledger import announcements, batches, database, imports, reading, stays, views
from allocator.ledger.batches import Proposal
from allocator.ledger.database import DB_ENV, database_url
from allocator.ledger.imports import ImportResult
from allocator.ledger.rules import EXIT_PATHWAYS, as_date
from allocator.ledger.schema import LedgerState
from allocator.policy import Policy
from allocator.tables import TableLike

__all__ = [
    "DB_ENV",
    "EXIT_PATHWAYS",
    "ImportResult",
    "Ledger",
    "Proposal",
    "as_date",
    "database_url",
    "open_ledger",
]


class Ledger:
    """A rotation ledger in SQLite or PostgreSQL. Open it with `Ledger.open`."""

    def __init__(self, engine: sa.Engine, actor: str | None = None) -> None:
        self.engine = engine
        self.actor = actor

    # -- opening and migrations

    @classmethod
    def open(
        cls,
        url_or_path: str | os.PathLike | None = None,
        *,
        actor: str | None = None,
        policy: Policy | None = None,
        create: bool = True,
    ) -> Ledger:
        """Open (creating and upgrading as needed) the ledger at a URL or SQLite file path.

        ``None`` means ``$ALLOCATOR_DB`` or ``allocator.db``. ``policy``, when given, becomes the
        ledger's stored policy (turnover days, max stay, horizon ...). ``create=False`` refuses a
        ledger that does not exist yet (a missing SQLite file, a database without the schema)
        instead of creating it: what the commands other than ``ledger init`` and the imports use.
        """
        url = database_url(url_or_path, create=create)
        ledger = cls(database.create_engine(url), actor=actor)
        try:
            if not create:
                database.require_schema(ledger.engine, url)
            ledger.upgrade()
        except sa.exc.DatabaseError as exc:
            ledger.close()
            at = sa.engine.make_url(url)  # named without its password
            shown = at.database if at.get_backend_name() == "sqlite" else at.render_as_string()
            raise AllocatorError(f"cannot open the ledger {shown}: {exc.orig}") from None
        except AllocatorError:
            ledger.close()
            raise
        if policy is not None:
            ledger.set_policy(policy)
        return ledger

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _alembic_config(self, connection: sa.Connection):
        return database.alembic_config(connection)

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` (default: the newest); what `open` and init do."""
        database.upgrade(self.engine, revision)

    def schema_revision(self) -> str | None:
        return database.schema_revision(self.engine)

    # -- policy and version

    @property
    def policy(self) -> Policy:
        with self.engine.connect() as conn:
            return database.read_policy(conn)

    def set_policy(self, policy: Policy, *, read: str | None = None) -> bool:
        """Store ``policy``. With ``read`` (the `Policy.fingerprint` of the policy the change
        was made from), store it only if the stored policy is still that one, checked under the
        writers' lock in the writing transaction; False (nothing stored) if it changed."""
        with database.transaction(self.engine, self.actor) as s:
            if read is not None:
                s.get_one(LedgerState, 1, with_for_update=True)
                if database.read_policy(s).fingerprint() != read:
                    return False
            database.write_policy(s, policy)
        return True

    @property
    def version(self) -> int:
        with self.engine.connect() as conn:
            return database.read_version(conn)

    # -- imports

    def import_units(
        self, table: TableLike | str | os.PathLike, *, dayfirst: bool = False
    ) -> ImportResult:
        """Add new units and apply changes (capacity, window, ...) to known ones.

        Units missing from the table are kept. A change that would break a stay (a room closed
        while a stay runs in it, capacity below a household's size) is refused. Importing the
        same table twice changes nothing. ``dayfirst``: the file's dd/mm/yyyy dates are read
        day first even where the column alone does not show the order.
        """
        return imports.import_units(self.engine, self.actor, table, dayfirst=dayfirst)

    def import_requests(
        self, table: TableLike | str | os.PathLike, *, dayfirst: bool = False
    ) -> ImportResult:
        """Add households waiting for a place, or update their request fields.

        Each household gives ``expected_stay_days`` (nights from its move-in) or
        ``expected_exit_date`` (the day its exit is expected, whatever the move-in), not both.
        Importing the same table twice changes nothing. A household already housed may not grow
        beyond its unit's capacity; a changed stay length or exit date changes the request, not
        a stay already planned or running (`extend` moves that). ``dayfirst`` as for units.
        """
        return imports.import_requests(self.engine, self.actor, table, dayfirst=dayfirst)

    def withdraw_request(self, household_id: str, reason: str) -> None:
        """Withdraw the request of a household still waiting, with a reason (no personal data).

        The request leaves the ledger (the audit trail keeps its fields and the reason); a
        proposed batch that places the household can no longer be approved. A household with a
        stay (planned, running or ended) is refused: record its exit instead. Importing a file
        that still holds the request adds it again.
        """
        imports.withdraw_request(self.engine, self.actor, household_id, reason)

    # -- weekly batch

    def propose(
        self,
        week: dt.date | str,
        *,
        policy: Policy | None = None,
        pins: Mapping[str, str] | None = None,
        forbids: Iterable[tuple[str, str]] | None = None,
        method: str = "solver",
        time_limit: float = 30.0,
        workers: int | None = None,
        seed: int = 0,
        commit_days: int = 7,
        proposed_by: str | None = None,
    ) -> Proposal:
        """Plan the week from the ledger: current stays fixed, waiting households as input.

        The plan (with the engine's explanations), the policy, pins, forbids and solver status
        are stored as a proposed batch. Approving it turns the placements that start before
        ``week + commit_days`` into stays; later ones are planned again next week.
        """
        return batches.propose(
            self.engine,
            self.actor,
            week,
            policy=policy,
            pins=pins,
            forbids=forbids,
            method=method,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
            commit_days=commit_days,
            proposed_by=proposed_by,
        )

    def approve(
        self, batch_id: int | None = None, approver: str | None = None, *, announce: bool = False
    ) -> pd.DataFrame:
        """Turn a proposed batch into stays, all or none; returns the batch's stays.

        Approving an approved batch again changes nothing (idempotent). ``batch_id`` None means
        the latest proposed batch. ``announce``: the batch's placements that start after its
        commit day are announced to the families too (`announce`), in the same transaction;
        not those in connecting rooms, whose households ``attrs["not_announced"]`` of the
        returned frame lists. A placement in connecting rooms becomes one stay holding them all
        (``unit_id`` the first room, ``joined_units`` the others).
        """
        return batches.approve(self.engine, self.actor, batch_id, approver, announce)

    # -- announcements

    def announce(
        self,
        household_id: str,
        unit_id: str,
        start: dt.date | str,
        *,
        announced_by: str | None = None,
    ) -> bool:
        """Record that a waiting household was told its unit and start date (replacing an
        earlier announcement). Later proposals keep it unless changing it saves more than
        ``Policy.announcement_weight`` or a hard rule forces the change; its move-in or the
        request's withdrawal removes it. Audited. A placement in connecting rooms (``unit_id``
        "H1.01+H1.02") is not announced: False, nothing recorded."""
        return announcements.announce(
            self.engine, self.actor, household_id, unit_id, start, announced_by
        )

    def unannounce(self, household_id: str, *, by: str | None = None) -> None:
        """Remove a household's announcement (audited); an unknown one is refused."""
        announcements.unannounce(self.engine, self.actor, household_id, by)

    def announcements(self) -> pd.DataFrame:
        """The announcements: household_id, unit_id, start, batch_id, announced_at, announced_by."""
        with self.engine.connect() as conn, Session(conn) as s:
            return announcements.announcements_frame(s)

    def changes(self, batch_id: int | None = None) -> pd.DataFrame:
        """What batch ``batch_id`` (default: the latest) changed against the last batch approved
        before it, per household: change (unit, date, unit and date, now placed, now unplaced),
        unit and start before and after, and the reason. Worked out from the stored placements."""
        return announcements.batch_changes(self.engine, batch_id)

    # -- stays

    def move_in(
        self,
        household_id: str,
        date: dt.date | str,
        *,
        unit_id: str | None = None,
        expected_end: dt.date | str | None = None,
    ) -> None:
        """Record the day a household moved in: its planned stay, or a manual one in ``unit_id``
        (connecting rooms of one group taken together as "H1.01+H1.02").

        A household with an expected exit date stays until then, or for the policy's maximum
        stay from this move-in if that ends first (``expected_end``, when given, may not pass
        the exit date); on or after its exit date it cannot move in. A manual move-in that
        breaks a rule (overlap incl. turnover, capacity, accessibility, availability, one stay
        per household) is refused with the rule and the stay named.
        """
        stays.move_in(
            self.engine, self.actor, household_id, date, unit_id=unit_id, expected_end=expected_end
        )

    def exit(
        self,
        household_id: str,
        date: dt.date | str,
        pathway: str,
        outcome: str | None = None,
    ) -> None:
        """Record that a household left its unit on ``date``, by which pathway, with what outcome.

        ``outcome`` is a short code or phrase; it must not contain names or personal data.
        """
        stays.exit(self.engine, self.actor, household_id, date, pathway, outcome)

    def extend(self, household_id: str, expected_end: dt.date | str, reason: str) -> None:
        """Move a running or planned stay's expected end, with a reason (no personal data).

        For a household with an expected exit date the new end must be later than the current
        one, and past the exit date it moves the exit date too. The overlap, capacity and
        availability rules apply as to any stay.
        """
        stays.extend(self.engine, self.actor, household_id, expected_end, reason)

    # -- reading

    def table(self, name: str) -> pd.DataFrame:
        """A stored table (units, households, stays, batches, placements, audit) or a derived one
        (history, occupancy, waiting, overdue, free, summary) as a DataFrame."""
        if name in reading.DERIVED:
            return self.history() if name == "history" else self.status()[name]
        return reading.stored_table(self.engine, name)

    def export(self, name: str, path: str | os.PathLike) -> int:
        """Write a table (see `table`) to .csv or .xlsx, atomically; returns the row count."""
        from allocator.io import same_file, write_table

        file = database.ledger_file(str(self.engine.url))
        if file is not None and same_file(path, file):
            raise InputError(
                _N("the export would overwrite the ledger file itself"), source=str(path)
            )
        frame = self.table(name)
        write_table(frame, path)
        return len(frame)

    def snapshot(self) -> dict[str, pd.DataFrame]:
        """Every stored table except the audit trail's timestamps: to compare two ledgers."""
        return reading.snapshot(self.engine)

    def status(self, today: dt.date | str | None = None, weeks: int = 4) -> dict[str, pd.DataFrame]:
        """The ledger today, as DataFrames.

        ``summary`` (one row of key figures), ``occupancy`` (each unit today), ``waiting``
        (households without a stay and for how long), ``overdue`` (stays past their expected end
        or past the policy's max stay) and ``free`` (free stretches of each unit in the next
        ``weeks`` weeks, turnover included).
        """
        day = as_date(today or dt.date.today(), "today")
        frames, policy = reading.load_frames(self.engine)
        return views.status(frames, policy, day, weeks)

    def history(
        self, start: dt.date | str | None = None, end: dt.date | str | None = None
    ) -> pd.DataFrame:
        """Rotation figures per week (weeks start on the first batch's week day).

        Columns: week, unit_nights_available, unit_nights_occupied, occupancy, persons_housed
        (average per night), stays, average_stay_days and longest_stay_days (length so far of
        stays present in the week, at its end), exits and exits_<pathway>, over_max_stay (stays
        present at the week's end that are longer than the policy's max stay), turnover_days_lost
        (days units stood empty between a stay and the next one starting in the week) and
        hotel_person_nights (nights of households needing a place and not yet in a unit, never
        past a household's expected exit date).
        """
        frames, policy = reading.load_frames(self.engine)
        first = as_date(start, "start") if start is not None else None
        last = as_date(end, "end") if end is not None else None
        return views.history(frames, policy, first, last)


def open_ledger(url_or_path: str | os.PathLike | None = None, **kwargs) -> Ledger:
    """`Ledger.open`."""
    return Ledger.open(url_or_path, **kwargs)
