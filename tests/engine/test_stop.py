"""A stop event ends the solver's search early: the best plan so far comes back, valid, with status
`interrupted`; running solves are interrupted, later ones refused, and a later plan is unaffected."""

from __future__ import annotations

import datetime as dt
import threading
import time

import numpy as np
import pytest

from allocator.choices import Status
from allocator.engine.columns import objective
from allocator.engine.greedy import solve_greedy
from allocator.engine.instance import Overrides, build_instance
from allocator.engine.optimiser import backend
from allocator.engine.optimiser.callbacks import SolveCallbacks
from allocator.engine.optimiser.solve import solve_optimal
from allocator.engine.planning import plan
from allocator.examples import generate
from allocator.policy import Policy
from allocator.tables import validate_tables
from allocator.testing import check_plan

START = "2026-12-07"


@pytest.fixture(scope="module")
def tables():
    """A week the solver takes to its MIPs (greedy is far from optimal)."""
    return generate(30, 15, seed=1)


def test_interrupted_is_a_status_that_carries_a_plan():
    """`interrupted` is a status like the others: a plan exists, `is_ok` holds."""
    assert Status("interrupted") is Status.INTERRUPTED and Status.INTERRUPTED.is_ok


def test_stop_set_before_the_call_returns_greedys_plan(tables):
    """Set before `plan` starts: greedy's plan, valid, with status interrupted and no search."""
    stop = threading.Event()
    stop.set()
    result = plan(*tables, start=START, stop=stop)
    assert result.status is Status.INTERRUPTED
    assert result.details["plan_source"] == "greedy"
    assert result.objective == pytest.approx(result.details["greedy_objective"])
    assert result.summary_dict()["status"] == "interrupted"
    assert "status interrupted" in result.summary()
    assert check_plan(result, *tables, START) == []


def test_stop_set_as_the_search_starts(tables):
    """Set when the engine says the search starts (greedy's plan exists): interrupted, valid."""
    stop = threading.Event()
    started = []
    result = plan(
        *tables, start=START, stop=stop, on_search_start=lambda: started.append(stop.set())
    )
    assert started == [None]
    assert result.status is Status.INTERRUPTED
    assert result.details["solver_detail"].startswith("interrupted")
    assert check_plan(result, *tables, START) == []


class StopAfterTheLP(SolveCallbacks):
    """Sets the stop once the column generation's first run of rounds has ended."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop

    def lp_solved(self, state, seconds) -> None:
        self.stop.set()


def test_stop_during_the_search_keeps_the_best_plan_and_the_lp_bound(tables):
    """Stopped after the LP: the incumbent is no worse than greedy's and the LP's bound holds."""
    inst = build_instance(validate_tables(*tables), dt.date(2026, 12, 7), Policy(), Overrides())
    greedy = solve_greedy(inst)
    stop = threading.Event()
    out = solve_optimal(
        inst,
        greedy,
        deadline=time.perf_counter() + 60,
        workers=1,
        seed=0,
        relative_gap=1e-4,
        callbacks=StopAfterTheLP(stop),
        stop=stop,
    )
    assert out.detail.startswith("interrupted")
    assert out.objective == pytest.approx(objective(inst, out.pool, out.start))
    assert out.objective <= objective(inst, *greedy) + 1e-9
    assert np.isfinite(out.best_bound) and out.best_bound <= out.objective + 1e-6


def test_a_plan_after_an_interrupted_one_is_not_stopped(tables):
    """The stop belongs to its call: the next plan in the same thread runs to its end."""
    stop = threading.Event()
    stop.set()
    assert plan(*tables, start=START, stop=stop).status is Status.INTERRUPTED
    assert plan(*tables, start=START).status is Status.OPTIMAL


class Flag:
    def __init__(self) -> None:
        self.hit = threading.Event()

    def interrupt(self) -> None:
        self.hit.set()


def test_watchdog_interrupts_a_running_solve_when_its_stop_is_set():
    """A solve armed with a stop is interrupted once the stop is set, long before its deadline;
    one armed with another stop is left alone."""
    dog = backend._Watchdog()
    mine, other = threading.Event(), threading.Event()
    stopped, running = Flag(), Flag()
    dog.arm(60.0, stopped, mine)
    token = dog.arm(60.0, running, other)
    mine.set()
    assert stopped.hit.wait(5.0)
    assert not running.hit.is_set()
    dog.disarm(token)


def test_interrupt_all_interrupts_every_running_solve():
    """`interrupt_all` (the backend's own watchdog) interrupts each solve in flight at once."""
    flags = [Flag(), Flag()]
    tokens = [backend._WATCHDOG.arm(60.0, flag) for flag in flags]
    backend.interrupt_all()
    assert all(flag.hit.is_set() for flag in flags)
    for token in tokens:
        backend._WATCHDOG.disarm(token)


def test_a_solve_started_after_the_stop_returns_at_once_without_a_solution():
    """Inside `stopping` with the stop set, a solve is refused as if out of time."""
    model = backend.SparseModel(
        cost=np.array([1.0]),
        var_lb=np.zeros(1),
        var_ub=np.ones(1),
        integer=np.array([True]),
        rows=np.zeros(1, dtype=np.int64),
        cols=np.zeros(1, dtype=np.int64),
        vals=np.ones(1),
        row_lb=np.ones(1),
        row_ub=np.ones(1),
    )
    stop = threading.Event()
    with backend.stopping(stop):
        assert backend.solve(model, time_limit=10, threads=1, seed=0).optimal
        stop.set()
        answer = backend.solve(model, time_limit=10, threads=1, seed=0)
    assert not answer.ok and answer.reason == "INTERRUPTED"
    assert backend.solve(model, time_limit=10, threads=1, seed=0).optimal  # outside: no stop
