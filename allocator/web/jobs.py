"""Background proposals: the engine plans a week while the console keeps answering.

A planner's *Propose* starts a `Job` and returns at once; the *This week* page polls a small
fragment that shows how long it has run against its time limit, and the plan when it is ready.
One job per ledger at a time (a second planner is told who is proposing which week). The job
calls `Ledger.propose` as the planner, so the batch, its reasons and the audit row are the same
as from the command line; then it computes the key figures of first-come-first-served on the
same inputs (`compare`), which the page shows next to the plan's.

By default the job runs in its own process (``spawn``): planning a city-size week is CPU-bound
Python and numpy, and in a thread it would hold the interpreter lock that serves the pages.
``Jobs(mode="thread")`` runs it in a thread of the server instead (tests, small ledgers). A job
that fails keeps only the error's one line, which may name a household: it is shown on the page,
never logged.

The module also holds the little state the weekly pages keep in memory (so it ends with the
server): each planner's pins and forbids for the next proposal (`Draft`), the figures computed
per batch, and a lock per ledger that makes the console's approvals of one batch one at a time.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa

from allocator.errors import AllocatorError, error_message

log = logging.getLogger("allocator.web")

Mode = Literal["process", "thread"]
URGENT = 4  # urgency 4 and 5: "urgent" in the key figures
_ids = itertools.count(1)


@dataclass(frozen=True)
class Proposal:
    """What a planner asked for: the week and the engine's settings, pins and forbids."""

    week: dt.date
    method: str = "solver"
    time_limit: float = 30.0
    pins: dict[str, str] = field(default_factory=dict)
    forbids: tuple[tuple[str, str], ...] = ()
    workers: int | None = 1
    seed: int = 0


@dataclass
class Job:
    """One background proposal; ``state`` is running, done or failed."""

    job_id: int
    ledger: str
    started_by: str
    request: Proposal
    started_at: dt.datetime
    started: float = field(default_factory=time.monotonic)
    state: str = "running"
    batch_id: int | None = None
    error: str | None = None
    finished: float | None = None

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def _end(self, batch_id: int | None, error: str | None) -> None:
        self.batch_id, self.error = batch_id, error
        self.state = "done" if error is None else "failed"
        self.finished = time.monotonic()


class Busy(AllocatorError):
    """A proposal is already running on this ledger."""

    def __init__(self, job: Job) -> None:
        self.job = job
        super().__init__(f"a proposal is already running (job {job.job_id})")


@dataclass
class Draft:
    """A planner's pins and forbids for the next proposal, starting from the batch shown."""

    batch_id: int | None
    pins: dict[str, str] = field(default_factory=dict)
    forbids: list[tuple[str, str]] = field(default_factory=list)


# --- state shared by every console in this process -----------------------------------------

_lock = threading.Lock()
_latest: dict[str, Job] = {}  # ledger -> its running or last job
_drafts: dict[tuple[str, str], Draft] = {}  # (ledger, account) -> draft
_figures: OrderedDict[tuple[str, int], dict[str, Any] | None] = OrderedDict()
_computing: set[tuple[str, int]] = set()
_approval_locks: dict[str, threading.Lock] = {}
_FIGURES_KEPT = 64


def ledger_key(engine: sa.Engine) -> str:
    """The name a ledger is known by here (its URL, password hidden)."""
    return engine.url.render_as_string(hide_password=True)


def _full_url(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


class Jobs:
    """Starts proposals in the background, one per ledger at a time."""

    def __init__(self, mode: Mode = "process", on_start: Callable[[Job], None] | None = None):
        """``on_start(job)``, in thread mode, runs in the job's thread before the engine does:
        a test can hold a job running to watch the page meanwhile."""
        if mode not in ("process", "thread"):
            raise ValueError(f"mode must be 'process' or 'thread', not {mode!r}")
        self.mode = mode
        self.on_start = on_start

    def start(self, engine: sa.Engine, actor: str, request: Proposal) -> Job:
        """Start planning ``request`` as ``actor``; raises `Busy` if this ledger has a job."""
        key = ledger_key(engine)
        with _lock:
            current = _latest.get(key)
            if current is not None and current.running:
                raise Busy(current)
            job = Job(next(_ids), key, actor, request, dt.datetime.now(dt.UTC))
            _latest[key] = job
        runner = self._in_process if self.mode == "process" else self._in_thread
        try:
            runner(job, _full_url(engine), engine)
        except Exception as exc:  # could not even start: the job fails with the reason
            job._end(None, f"the proposal could not start ({type(exc).__name__})")
        log.info("proposal job %d started (%s)", job.job_id, self.mode)
        return job

    def _in_thread(self, job: Job, url: str, engine: sa.Engine) -> None:
        def work() -> None:
            try:
                if self.on_start is not None:
                    self.on_start(job)
                outcome = run(url, job.started_by, job.request, engine=engine)
            except Exception as exc:  # never leave a job running for ever
                outcome = ("failed", f"the proposal stopped ({type(exc).__name__})", None)
            _finish(job, outcome)

        threading.Thread(target=work, name=f"proposal-{job.job_id}", daemon=True).start()

    def _in_process(self, job: Job, url: str, _engine: sa.Engine) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        receive, send = context.Pipe(duplex=False)
        process = context.Process(
            target=_child,
            args=(url, job.started_by, job.request, send),
            name=f"allocator-proposal-{job.job_id}",
            daemon=True,
        )
        process.start()
        send.close()

        def watch() -> None:
            outcome: tuple[str, Any, Any] | None = None
            try:
                outcome = receive.recv()
            except (EOFError, OSError):
                pass
            process.join()
            if outcome is None:
                outcome = (
                    "failed",
                    f"the planning process stopped unexpectedly (exit code {process.exitcode})",
                    None,
                )
            _finish(job, outcome)

        threading.Thread(target=watch, name=f"proposal-watch-{job.job_id}", daemon=True).start()


def _finish(job: Job, outcome: tuple[str, Any, Any]) -> None:
    state, value, figures = outcome
    if state == "done":
        remember_figures(job.ledger, int(value), figures)
        job._end(int(value), None)
        log.info("proposal job %d done in %.0f s", job.job_id, job.elapsed)
    else:
        job._end(None, value if isinstance(value, str) else str(value))  # a Message stays one
        log.info("proposal job %d failed after %.0f s", job.job_id, job.elapsed)


def _child(url: str, actor: str, request: Proposal, send: Any) -> None:
    """The planning process: run the proposal, send back (state, batch id or error, figures)."""
    try:
        send.send(run(url, actor, request))
    finally:
        send.close()


def run(
    url: str, actor: str, request: Proposal, *, engine: sa.Engine | None = None
) -> tuple[str, Any, Any]:
    """Propose ``request`` on the ledger at ``url`` as ``actor``, then compare with
    first-come-first-served; ("done", batch id, figures) or ("failed", one line, None)."""
    from allocator.ledger import Ledger
    from allocator.ledger.database import create_engine

    own = engine is None
    engine = engine if engine is not None else create_engine(url)
    try:
        ledger = Ledger(engine, actor=actor)
        proposal = ledger.propose(
            request.week,
            pins=request.pins,
            forbids=list(request.forbids),
            method=request.method,
            time_limit=request.time_limit,
            workers=request.workers,
            seed=request.seed,
            proposed_by=actor,
        )
        try:
            figures = compare(engine, proposal.batch_id)
        except AllocatorError:
            figures = None
        return ("done", proposal.batch_id, figures)
    except AllocatorError as exc:
        return ("failed", error_message(exc), None)  # translated where it is shown
    except Exception as exc:  # the message may hold household data: its type only
        return ("failed", f"the engine stopped with an internal error ({type(exc).__name__})", None)
    finally:
        if own:
            engine.dispose()


# --- the jobs of a console -----------------------------------------------------------------

_runners: weakref.WeakKeyDictionary[Any, Jobs] = weakref.WeakKeyDictionary()


def use(console: Any, jobs: Jobs) -> None:
    """Run ``console``'s proposals with ``jobs`` (e.g. ``Jobs(mode="thread")`` in tests)."""
    _runners[console] = jobs


def jobs_of(console: Any) -> Jobs:
    """The console's `Jobs`: a process per proposal unless `use` said otherwise."""
    runner = _runners.get(console)
    if runner is None:
        runner = _runners.setdefault(console, Jobs())
    return runner


def latest(engine: sa.Engine) -> Job | None:
    """The ledger's running job, or its last one."""
    return _latest.get(ledger_key(engine))


def wait(engine: sa.Engine, timeout: float = 120.0) -> Job | None:
    """Wait for the ledger's job to end (tests, the benchmark); returns it."""
    deadline = time.monotonic() + timeout
    job = latest(engine)
    while job is not None and job.running and time.monotonic() < deadline:
        time.sleep(0.05)
    return job


# --- drafts: pins and forbids for the next proposal ----------------------------------------


def draft(
    engine: sa.Engine, account: str, batch_id: int | None, base: Callable[[], Draft]
) -> Draft:
    """``account``'s draft for the plan of ``batch_id``; started from ``base()`` when the draft
    was made on another batch (or never)."""
    key = (ledger_key(engine), account)
    with _lock:
        current = _drafts.get(key)
        if current is None or current.batch_id != batch_id:
            current = _drafts[key] = base()
        return current


def set_draft(engine: sa.Engine, account: str, value: Draft) -> None:
    with _lock:
        _drafts[(ledger_key(engine), account)] = value


# --- key figures against first-come-first-served -------------------------------------------


def figures_of(
    placements: pd.DataFrame,
    hotel_nights: float | None,
    commit_until: dt.date,
    urgency: dict[str, int],
) -> dict[str, Any]:
    """The key figures of a plan's placements (the stored batch's or a plan's)."""
    placed = placements[placements.status == "placed"]
    starts = pd.to_datetime(placed.start).dt.date
    week = placed[starts < commit_until]
    urgent = [h for h in week.household_id if urgency.get(str(h), 0) >= URGENT]
    waits = pd.to_numeric(placed.wait_days, errors="coerce")
    return {
        "this_week": len(week),
        "urgent_this_week": len(urgent),
        "placed": len(placed),
        "not_placed": int((placements.status != "placed").sum()),
        "average_wait": float(waits.mean()) if len(waits) else None,
        "hotel_person_nights": None if hotel_nights is None else int(hotel_nights),
    }


def compare(engine: sa.Engine, batch_id: int) -> dict[str, Any] | None:
    """The batch's key figures and first-come-first-served's on the same inputs.

    First-come-first-served is the engine's greedy rule (`allocator.engine.greedy`), without the
    batch's pins and forbids, on the inputs the batch was planned from: None when the ledger has
    changed since (those inputs are gone).
    """
    from sqlalchemy.orm import Session

    from allocator.engine.planning import plan
    from allocator.ledger.batches import engine_inputs
    from allocator.ledger.database import read_version
    from allocator.ledger.schema import BatchRow, HouseholdRow, PlacementRow
    from allocator.policy import validate_policy

    with Session(engine) as s:
        batch = s.get(BatchRow, batch_id)
        if batch is None:
            return None
        rows = s.scalars(sa.select(PlacementRow).where(PlacementRow.batch_id == batch_id))
        columns = ["household_id", "status", "start", "wait_days"]
        mine = pd.DataFrame([{c: getattr(r, c) for c in columns} for r in rows], columns=columns)
        urgency = dict(s.execute(sa.select(HouseholdRow.household_id, HouseholdRow.urgency)).all())
        figures = {
            "plan": figures_of(mine, batch.hotel_person_nights, batch.commit_until, urgency),
            "fcfs": None,
        }
        if batch.status != "proposed" or read_version(s) != batch.ledger_version:
            return figures
        policy = validate_policy(batch.policy, source=f"batch {batch_id} policy")
        commit_days = int((batch.commit_until - batch.week).days)
        households, units, stays = engine_inputs(s, batch.week, policy, commit_days)
        week = batch.week
    fcfs = plan(households, units, stays, start=week, policy=policy, method="greedy", reasons=False)
    figures["fcfs"] = figures_of(
        fcfs.placements, fcfs.hotel_person_nights, batch.commit_until, urgency
    )
    return figures


def remember_figures(ledger: str, batch_id: int, figures: dict[str, Any] | None) -> None:
    with _lock:
        _figures[(ledger, batch_id)] = figures
        _figures.move_to_end((ledger, batch_id))
        while len(_figures) > _FIGURES_KEPT:
            _figures.popitem(last=False)


def figures_for(engine: sa.Engine, batch_id: int) -> dict[str, Any] | None:
    """The batch's figures: remembered from its job, else None while a thread computes them
    once (`compare` plans first-come-first-served, seconds at city size: never in a page's
    request), or while this ledger's proposal job, which computes them itself, still runs."""
    key = (ledger_key(engine), batch_id)
    with _lock:
        if key in _figures:
            return _figures[key]
        job = _latest.get(key[0])
        if key in _computing or (job is not None and job.running):
            return None
        _computing.add(key)

    def work() -> None:
        try:
            figures = compare(engine, batch_id)
        except Exception as exc:  # the page shows no comparison; the reason's type is logged
            log.warning("key figures of a batch not computed: %s", type(exc).__name__)
            figures = None
        remember_figures(key[0], batch_id, figures)
        with _lock:
            _computing.discard(key)

    threading.Thread(target=work, name="batch-figures", daemon=True).start()
    return None


def wait_for_figures(engine: sa.Engine, batch_id: int, timeout: float = 60.0) -> None:
    """Wait until the batch's figures are known (tests)."""
    deadline = time.monotonic() + timeout
    key = (ledger_key(engine), batch_id)
    while key not in _figures and time.monotonic() < deadline:
        time.sleep(0.05)


def approval_lock(engine: sa.Engine) -> threading.Lock:
    """One console approval at a time per ledger: the second sees the first one's result."""
    with _lock:
        return _approval_locks.setdefault(ledger_key(engine), threading.Lock())
