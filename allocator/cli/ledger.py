"""The ledger's commands: the groups ``ledger``, ``units``, ``requests``, ``batch`` and ``stay``,
and ``status``.

Every command takes ``--db`` (a SQLite file or a database URL; default ``$ALLOCATOR_DB`` or
``allocator.db``). Errors the user can fix print one line ``error: <message>`` and exit with
code 2, and change nothing in the ledger. The ledger (SQLAlchemy, pandas) is imported when a
command runs, not at start-up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from allocator.choices import EXIT_PATHWAYS, Method
from allocator.cli.common import (
    DAYFIRST_HELP,
    DbOption,
    check_positive,
    check_ranges,
    fail,
    parse_pairs,
    parse_pins,
)
from allocator.cli.root import app
from allocator.errors import AllocatorError, InputError

if TYPE_CHECKING:
    import pandas as pd

    from allocator.ledger import Ledger


def _group(name: str, help_text: str) -> typer.Typer:
    """A command group of the app: ``allocator NAME ...``."""
    group = typer.Typer(help=help_text, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


ledger_app = _group("ledger", "Create, upgrade and export the rotation ledger.")
units_app = _group("units", "Housing units in the ledger.")
requests_app = _group("requests", "Households waiting for a place.")
batch_app = _group("batch", "Weekly batches: propose, look at, approve.")
stay_app = _group("stay", "Stays: move-in, exit, extension.")


def _say(text: str) -> None:
    from rich.console import Console

    Console().print(text, markup=False, highlight=False, soft_wrap=True)


def _cell(value: object) -> str:
    import pandas as pd
    from rich.markup import escape

    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return escape(str(value))


def _show(frame: pd.DataFrame, title: str, limit: int | None = 30) -> None:
    from rich.console import Console
    from rich.table import Table

    frame = _with_rooms(frame)
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for col in frame.columns:
        table.add_column(str(col).replace("_", " "))
    shown = frame if limit is None else frame.head(limit)
    for row in shown.itertuples(index=False):
        table.add_row(*[_cell(v) for v in row])
    if len(shown) < len(frame):
        table.caption = f"... and {len(frame) - len(shown)} more rows"
    Console().print(table)


def _with_rooms(frame: pd.DataFrame) -> pd.DataFrame:
    """A stay or placement in connecting rooms shows its rooms in one column: ``H1.01+H1.02``."""
    if not {"unit_id", "joined_units"} <= set(frame.columns):
        return frame
    from allocator.cli.plan_tables import rooms  # pandas and rich: not at the CLI's start

    units = [rooms(u, j) for u, j in zip(frame["unit_id"], frame["joined_units"], strict=True)]
    return frame.drop(columns="joined_units").assign(unit_id=units)


@contextmanager
def _open(db: str | None, actor: str | None = None, *, create: bool = False) -> Iterator[Ledger]:
    """The ledger; only `ledger init` and the imports may create it (a mistyped --db is refused).

    An abort (Ctrl-C, SIGTERM) ends the process before an open transaction commits, which the
    database then drops; a ledger file this command created is removed, after an abort or an
    error alike, so a refused import into a new ledger writes nothing.
    """
    from allocator.cli import interrupts
    from allocator.ledger import Ledger

    new_file = _ledger_file(db) if create else None
    was_empty = new_file is not None and new_file.exists() and new_file.stat().st_size == 0
    if new_file is not None and new_file.exists() and not was_empty:
        new_file = None

    def undo() -> None:  # a ledger this command made goes: the file as it was before
        _remove_sqlite(new_file)
        if was_empty and new_file is not None:
            new_file.touch()

    with interrupts.on_abort(undo):
        try:
            with Ledger.open(db, actor=actor, create=create) as ledger:
                yield ledger
        except BaseException:  # bad input too: a failed command leaves no new ledger behind
            undo()
            raise
        interrupts.done("aborted after the ledger command had finished")


def _remove_sqlite(path: Path | None) -> None:
    """A SQLite file and the journals beside it (for an aborted command that created it)."""
    if path is not None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def _session(
    db: str | None,
    actor: str | None = None,
    *,
    create: bool = False,
    reads: dict[str, Path | None] | None = None,
) -> Iterator[Ledger]:
    """The ledger, open; bad input inside becomes the one-line error and exit code 2.

    ``reads`` are the files the command reads, refused first if one is the ledger file itself.
    """
    try:
        for label, path in (reads or {}).items():
            _not_the_ledger(db, label, path)
        with _open(db, actor=actor, create=create) as ledger:
            yield ledger
    except AllocatorError as exc:
        raise fail(exc) from None


def _ledger_file(db: str | None) -> Path | None:
    """The ledger's SQLite file named by --db (None for a server), for the overwrite checks."""
    from allocator.ledger.database import database_url, ledger_file

    return ledger_file(database_url(db))


def _not_the_ledger(db: str | None, label: str, path: Path | None) -> None:
    """Refuse a file the command reads that is the ledger file itself (which it writes)."""
    from allocator.io import Outputs

    Outputs({label: path}).file("--db", _ledger_file(db))


# --- ledger ----------------------------------------------------------------------------------


@ledger_app.command("init")
def init(
    db: DbOption = None,
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Policy (TOML) the ledger plans with.")
    ] = None,
) -> None:
    """Create the ledger, or upgrade an older one to this version's schema."""
    from allocator.policy import Policy

    try:
        _not_the_ledger(db, "--policy", policy_file)
        policy = Policy.from_file(policy_file) if policy_file else None
        with _open(db, create=True) as ledger:
            if policy is not None:
                ledger.set_policy(policy)
            _say(f"ledger ready (schema {ledger.schema_revision()}, version {ledger.version})")
    except AllocatorError as exc:
        raise fail(exc) from None


@ledger_app.command("export")
def export(
    table: Annotated[
        str,
        typer.Argument(
            help="units, households, stays, batches, placements, "
            "audit, history, occupancy, waiting, overdue, free"
        ),
    ],
    out: Annotated[Path, typer.Argument(help="Output file (.csv or .xlsx).")],
    db: DbOption = None,
) -> None:
    """Export a ledger table to CSV or Excel."""
    from allocator.io import Outputs

    with _session(db) as ledger:
        Outputs({"the ledger (--db)": _ledger_file(db)}).file("OUT", out)
        from allocator.cli.interrupts import final_write

        with final_write():  # an abort waits for the file's replacement, never leaves a temporary
            n = ledger.export(table, out)
    _say(f"wrote {n} rows to {out}")


# --- imports ---------------------------------------------------------------------------------


DayFirstOption = Annotated[bool, typer.Option("--dayfirst", help=DAYFIRST_HELP)]


@units_app.command("import")
def import_units(
    file: Annotated[Path, typer.Argument(help="Units (.csv or .xlsx), the planner's format.")],
    db: DbOption = None,
    dayfirst: DayFirstOption = False,
) -> None:
    """Add units and apply changes to known ones (a flat added, a room closed)."""
    with _session(db, create=True, reads={"FILE": file}) as ledger:
        result = ledger.import_units(file, dayfirst=dayfirst)
    _say(f"units: {result}")


@requests_app.command("import")
def import_requests(
    file: Annotated[Path, typer.Argument(help="Households (.csv or .xlsx), the planner's format.")],
    db: DbOption = None,
    dayfirst: DayFirstOption = False,
) -> None:
    """Add households waiting for a place; re-importing the same file changes nothing."""
    with _session(db, create=True, reads={"FILE": file}) as ledger:
        result = ledger.import_requests(file, dayfirst=dayfirst)
    _say(f"requests: {result}")


# --- batches ---------------------------------------------------------------------------------


@batch_app.command("propose")
def propose(
    week: Annotated[str, typer.Option("--week", help="First day of the week, YYYY-MM-DD.")],
    db: DbOption = None,
    method: Annotated[Method, typer.Option("--method", case_sensitive=False)] = Method.SOLVER,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Solver seconds.")] = 30.0,
    pin: Annotated[
        list[str] | None, typer.Option("--pin", help="HOUSEHOLD=UNIT: must go there.")
    ] = None,
    forbid: Annotated[
        list[str] | None, typer.Option("--forbid", help="HOUSEHOLD=UNIT: must not go there.")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who proposes (an operator id).")] = None,
) -> None:
    """Plan the week with the current stays fixed and store it as a proposed batch."""
    try:
        check_positive(time_limit, "--time-limit")
        check_ranges(time_limit=time_limit)
        pins = parse_pins(pin)
        forbids = parse_pairs(forbid, "--forbid")
        with _open(db, actor=by) as ledger:
            proposal = ledger.propose(
                week, method=method.value, time_limit=time_limit, pins=pins, forbids=forbids
            )
    except AllocatorError as exc:
        raise fail(exc) from None
    _show(proposal.placements, f"Batch {proposal.batch_id} for the week of {proposal.week}")
    if proposal.changes is not None and not proposal.changes.empty:
        _show(proposal.changes, "Changed against the last approved batch", limit=None)
    _say(
        f"batch {proposal.batch_id} proposed ({proposal.solver_status}): "
        f"{len(proposal.to_commit)} move-ins this week; approve with "
        f"`allocator batch approve {proposal.batch_id}`"
    )


@batch_app.command("show")
def show(
    batch_id: Annotated[int | None, typer.Argument(help="Batch (default: all batches).")] = None,
    db: DbOption = None,
) -> None:
    """List the batches, or show one batch's plan with the reasons."""
    with _session(db) as ledger:
        if batch_id is None:
            frame = ledger.table("batches")
            _show(
                frame[
                    [
                        "batch_id",
                        "week",
                        "status",
                        "solver_status",
                        "approved_by",
                        "approved_at",
                    ]
                ],
                "Batches",
                limit=None,
            )
            return
        frame = ledger.table("placements")
        frame = frame[frame.batch_id == batch_id]
        if frame.empty:
            raise InputError(f"unknown batch {batch_id}")
    _show(frame.drop(columns="batch_id"), f"Batch {batch_id}", limit=None)


@batch_app.command("approve")
def approve(
    batch_id: Annotated[
        int | None, typer.Argument(help="Batch to approve (default: the latest proposed).")
    ] = None,
    db: DbOption = None,
    by: Annotated[str | None, typer.Option("--by", help="Who approves (an operator id).")] = None,
    announce: Annotated[
        bool,
        typer.Option(
            "--announce",
            help="Also announce the batch's later placements (after this week) to the families: "
            "later plans keep them unless a change is worth the announcement weight.",
        ),
    ] = False,
) -> None:
    """Turn a proposed batch into stays: all of them or none."""
    with _session(db) as ledger:
        stays = ledger.approve(batch_id, approver=by, announce=announce)
        told = len(ledger.announcements()) if announce else 0
    skipped = stays.attrs.get("not_announced") or []
    _say(
        f"approved: {len(stays)} stays"
        + (f"; {told} announcements held" if announce else "")
        + (
            f"; {len(skipped)} not announced: connecting rooms ({', '.join(skipped)})"
            if skipped
            else ""
        )
    )


@batch_app.command("announce")
def announce(
    household: Annotated[str, typer.Argument(help="Household id (waiting).")],
    unit: Annotated[str, typer.Option("--unit", help="The unit the family was told.")],
    start: Annotated[str, typer.Option("--start", help="The start date told, YYYY-MM-DD.")],
    db: DbOption = None,
    by: Annotated[str | None, typer.Option("--by", help="Operator id.")] = None,
) -> None:
    """Record the unit and date told to a waiting household (replacing an earlier one)."""
    with _session(db, actor=by) as ledger:
        told = ledger.announce(household, unit, start, announced_by=by)
    if not told:  # a placement in connecting rooms is not announced (nor kept by later plans)
        _say(f"not announced: connecting rooms (household {household} in {unit})")
        return
    _say(f"announced: household {household} in unit {unit} from {start}")


@batch_app.command("unannounce")
def unannounce(
    household: Annotated[str, typer.Argument(help="Household id.")],
    db: DbOption = None,
    by: Annotated[str | None, typer.Option("--by", help="Operator id.")] = None,
) -> None:
    """Remove a household's announcement."""
    with _session(db, actor=by) as ledger:
        ledger.unannounce(household, by=by)
    _say(f"announcement of household {household} removed")


@batch_app.command("announcements")
def announcements(db: DbOption = None) -> None:
    """List the placements announced to families."""
    with _session(db) as ledger:
        frame = ledger.announcements()
    _show(frame, "Announcements", limit=None)


@batch_app.command("changes")
def changes(
    batch_id: Annotated[int | None, typer.Argument(help="Batch (default: the latest).")] = None,
    db: DbOption = None,
) -> None:
    """What a batch changed against the last approved batch, per household, with the reason."""
    with _session(db) as ledger:
        frame = ledger.changes(batch_id)
    if frame.empty:
        _say("no change against the last approved batch")
        return
    _show(frame, f"Batch {batch_id or 'latest'}: changes", limit=None)


# --- stays -----------------------------------------------------------------------------------


@stay_app.command("move-in")
def move_in(
    household: Annotated[str, typer.Argument(help="Household id.")],
    date: Annotated[str, typer.Option("--date", help="Day of the move-in, YYYY-MM-DD.")],
    unit: Annotated[
        str | None, typer.Option("--unit", help="Unit, for a move-in outside any batch.")
    ] = None,
    expected_end: Annotated[
        str | None,
        typer.Option(
            "--expected-end",
            help="Departure day, YYYY-MM-DD (default: after the stay length, or on the expected "
            "exit date capped by the maximum stay).",
        ),
    ] = None,
    db: DbOption = None,
    by: Annotated[str | None, typer.Option("--by", help="Operator id.")] = None,
) -> None:
    """Record a move-in (the planned stay, or a manual one with --unit).

    A household with an expected exit date stays until that date (at most the maximum stay), and
    cannot move in once it has come.
    """
    with _session(db, actor=by) as ledger:
        ledger.move_in(household, date, unit_id=unit, expected_end=expected_end)
    _say(f"moved in: {household}")


@stay_app.command("exit")
def exit_(
    household: Annotated[str, typer.Argument(help="Household id.")],
    date: Annotated[str, typer.Option("--date", help="Day of departure, YYYY-MM-DD.")],
    pathway: Annotated[str, typer.Option("--pathway", help=" | ".join(EXIT_PATHWAYS))],
    outcome: Annotated[
        str | None, typer.Option("--outcome", help="Short outcome code (no personal data).")
    ] = None,
    db: DbOption = None,
    by: Annotated[str | None, typer.Option("--by", help="Operator id.")] = None,
) -> None:
    """Record a household's exit: date, pathway and outcome."""
    with _session(db, actor=by) as ledger:
        ledger.exit(household, date, pathway, outcome)
    _say(f"exited: {household}")


@stay_app.command("extend")
def extend(
    household: Annotated[str, typer.Argument(help="Household id.")],
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="New expected departure day, YYYY-MM-DD (for a household with an expected exit "
            "date: after the current one; past the exit date it becomes the new exit date).",
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why (no personal data).")],
    db: DbOption = None,
    by: Annotated[str | None, typer.Option("--by", help="Operator id.")] = None,
) -> None:
    """Change a stay's expected end, with a reason; for a household with an expected exit date,
    move its exit later."""
    with _session(db, actor=by) as ledger:
        ledger.extend(household, to, reason)
    _say(f"extended: {household} to {to}")


# --- status ----------------------------------------------------------------------------------


@app.command("status")
def status(
    db: DbOption = None,
    today: Annotated[
        str | None, typer.Option("--today", help="Day to report on (default: today).")
    ] = None,
    history: Annotated[
        bool, typer.Option("--history", help="Rotation figures per week instead.")
    ] = False,
    weeks: Annotated[int, typer.Option("--weeks", help="Weeks ahead for free units.")] = 4,
) -> None:
    """Occupancy today, who waits and how long, overdue stays, units free soon."""
    import pandas as pd

    from allocator.limits import check_number, user_date

    try:
        day = user_date(today, source="--today") if today else dt.date.today()
        check_number(weeks, "--weeks", 0, 520, whole=True)
        with _open(db) as ledger:
            if history:
                frame = ledger.history()
                _show(
                    frame.rename(columns=lambda c: c.replace("exits_", "")),
                    "Rotation per week",
                    limit=None,
                )
                return
            tables = ledger.status(day, weeks=weeks)
    except AllocatorError as exc:
        raise fail(exc) from None
    summary = tables["summary"].iloc[0]
    _show(
        pd.DataFrame({"figure": summary.index, "value": summary.values}),
        f"Ledger on {day}",
        limit=None,
    )
    _show(tables["occupancy"], "Occupancy today")
    _show(tables["waiting"], "Waiting")
    _show(tables["overdue"], "Past expected end or max stay")
    _show(tables["free"], f"Free in the next {weeks} weeks")
