"""A year of weekly cycles on generated data, with the ledger's invariants checked after every step.

The hypothesis state machine mixes the weekly cycle (propose, approve, move-ins, exits,
extensions) with new requests, manual move-ins, duplicate approvals and bad input, for
households of both kinds (a stay length, or an expected exit date); after every step no engine
rule may be broken, an exit-dated stay ends by its exit date (and, unless extended, at the exit
date or the maximum stay from its start, whichever comes first), and a refused operation must
have changed nothing. Runs on SQLite, and on PostgreSQL when ``ALLOCATOR_TEST_POSTGRES_URL`` is
set.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from allocator.errors import AllocatorError
from allocator.examples import generate
from allocator.ledger import EXIT_PATHWAYS, Ledger
from allocator.ledger.testing import backends, fresh_url, invariant_violations

WEEK = dt.date(2026, 12, 7)
DAY = dt.timedelta(days=1)


def _requests(seed: int, n: int, start: dt.date, prefix: str, exit_dated: int = 2) -> pd.DataFrame:
    """``n`` requests; every ``exit_dated``-th one gives an expected exit date (need date plus its
    stay length, so it may come before any free unit) instead of a length."""
    households, _, _ = generate(n, 1, seed=seed, start=start)
    households["household_id"] = [f"{prefix}{k:03d}" for k in range(n)]
    days = households["expected_stay_days"].clip(upper=120)
    dated = (pd.Series(range(n)) % exit_dated == exit_dated - 1).to_numpy()
    households["expected_stay_days"] = pd.Series(days, dtype=object).where(~dated, None)
    households["expected_exit_date"] = [
        need + int(d) * DAY if x else None
        for need, d, x in zip(households.need_date, days, dated, strict=True)
    ]
    return households


def _units(seed: int = 5, n: int = 10) -> pd.DataFrame:
    _, units, _ = generate(1, n, seed=seed)
    units["available_from"] = None
    return units


def _cycle(ledger: Ledger, week: dt.date, rng_pick: int = 0) -> None:
    """One week: propose, approve, record the exits due, then the week's move-ins."""
    try:
        proposal = ledger.propose(week, method="greedy")
    except AllocatorError as exc:
        assert "no household is waiting" in str(exc)
        return
    stays = ledger.approve(proposal.batch_id, approver="planner")
    assert len(stays) == len(proposal.to_commit)
    end = week + 7 * DAY
    all_stays = ledger.table("stays")
    for k, r in enumerate(all_stays.itertuples()):
        if not pd.isna(r.moved_in) and pd.isna(r.actual_end) and r.expected_end < end:
            if (k + rng_pick) % 5 == 0 and _extended(ledger, r.household_id, r.expected_end):
                continue  # some stay longer, with a reason
            else:
                pathway = EXIT_PATHWAYS[(k + rng_pick) % len(EXIT_PATHWAYS)]
                ledger.exit(r.household_id, max(r.expected_end, r.moved_in + DAY), pathway, "ok")
    # move-ins after the exits: a household past its expected end blocks its unit until its exit
    for r in ledger.table("stays").itertuples():
        if pd.isna(r.moved_in) and r.start < end:
            ledger.move_in(r.household_id, r.start)


def _extended(ledger: Ledger, household_id: str, expected_end: dt.date) -> bool:
    """Two weeks more, with a reason; refused when the unit is promised to the next household
    within the stay and its turnover days (the planner then records the exit instead)."""
    try:
        ledger.extend(household_id, expected_end + 14 * DAY, "offer pending")
    except AllocatorError as exc:
        assert "no overlap" in str(exc)
        return False
    return True


@pytest.fixture(params=backends())
def ledger_url(request, tmp_path) -> str:
    return fresh_url(request.param, tmp_path)


def exit_date_violations(ledger: Ledger) -> list[str]:
    """Exit-dated stays that end after the household's exit date, or that were never extended
    and do not end at min(exit date, start + max stay)."""
    households = ledger.table("households").set_index("household_id")
    audit = ledger.table("audit")
    extended = set(audit[audit.action == "extend"].entity_id)
    max_stay = ledger.policy.max_stay_days * DAY
    problems = []
    for r in ledger.table("stays").itertuples():
        exit_date = households.expected_exit_date[r.household_id]
        if _missing(exit_date):
            continue
        if r.expected_end > exit_date:
            problems.append(f"stay {r.stay_id} ends {r.expected_end}, after exit {exit_date}")
        start = r.start if _missing(r.moved_in) else r.moved_in
        if str(r.stay_id) not in extended and r.expected_end != min(exit_date, start + max_stay):
            problems.append(
                f"stay {r.stay_id} from {start} ends {r.expected_end}, not at min(exit "
                f"{exit_date}, max stay)"
            )
    return problems


def _missing(value) -> bool:
    return value is None or bool(pd.isna(value))


def test_a_year_of_weekly_cycles(ledger_url):
    with Ledger.open(ledger_url, actor="ci") as ledger:
        ledger.import_units(_units())
        week = WEEK
        for k in range(52):
            if k % 4 == 0:  # a new intake every month
                ledger.import_requests(_requests(k, 8, week, f"M{k:02d}-"))
            _cycle(ledger, week, k)
            assert invariant_violations(ledger) == [], f"week {week}"
            assert exit_date_violations(ledger) == [], f"week {week}"
            week += 7 * DAY
        households = ledger.table("households").set_index("household_id")
        housed = households.loc[ledger.table("stays").household_id]
        assert housed.expected_exit_date.notna().any()  # both kinds were housed
        assert housed.expected_stay_days.notna().any()
        history = ledger.history()
        assert len(history) >= 52
        assert history.exits.sum() > 0
        assert (history.occupancy.between(0, 1)).all()
        status = ledger.status(week)
        assert status["summary"].iloc[0].households_waiting == len(status["waiting"])


class LedgerMachine(RuleBasedStateMachine):
    url: str = ""

    @initialize()
    def open_ledger(self) -> None:
        self.ledger = Ledger.open(self.url, actor="machine")
        self.ledger.import_units(_units())
        self.week = WEEK
        self.intake = 0
        self.ledger.import_requests(_requests(0, 8, self.week, "I00-"))

    def teardown(self) -> None:
        if hasattr(self, "ledger"):
            self.ledger.close()

    def _refused_changes_nothing(self, action) -> None:
        before, version = self.ledger.snapshot(), self.ledger.version
        try:
            action()
        except AllocatorError:
            assert self.ledger.version == version
            after = self.ledger.snapshot()
            for name in before:
                pd.testing.assert_frame_equal(before[name], after[name], check_dtype=False)

    @rule(pick=st.integers(0, 20))
    def weekly_cycle(self, pick: int) -> None:
        _cycle(self.ledger, self.week, pick)
        self.week += 7 * DAY

    @rule(seed=st.integers(0, 1000), n=st.integers(1, 6), every=st.integers(1, 3))
    def new_requests(self, seed: int, n: int, every: int) -> None:
        self.intake += 1
        self.ledger.import_requests(
            _requests(seed, n, self.week, f"I{self.intake:02d}-", exit_dated=every)
        )

    @rule()
    def reimport_changes_nothing(self) -> None:
        before = self.ledger.snapshot()
        self.ledger.import_units(_units())
        after = self.ledger.snapshot()
        pd.testing.assert_frame_equal(before["units"], after["units"], check_dtype=False)
        assert len(before["audit"]) == len(after["audit"])

    @rule(h=st.integers(0, 30), u=st.integers(0, 9), offset=st.integers(-10, 40))
    def manual_move_in(self, h: int, u: int, offset: int) -> None:
        households = self.ledger.table("households").household_id
        if not len(households):
            return
        hid = households.iloc[h % len(households)]
        self._refused_changes_nothing(
            lambda: self.ledger.move_in(hid, self.week + offset * DAY, unit_id=f"U{u:05d}")
        )

    @rule(h=st.integers(0, 30), offset=st.integers(-30, 30), p=st.sampled_from(EXIT_PATHWAYS))
    def exit_any(self, h: int, offset: int, p: str) -> None:
        stays = self.ledger.table("stays")
        if stays.empty:
            return
        hid = stays.household_id.iloc[h % len(stays)]
        self._refused_changes_nothing(lambda: self.ledger.exit(hid, self.week + offset * DAY, p))

    @rule(h=st.integers(0, 30), days=st.integers(-60, 60))
    def extend_any(self, h: int, days: int) -> None:
        stays = self.ledger.table("stays")
        if stays.empty:
            return
        r = stays.iloc[h % len(stays)]
        self._refused_changes_nothing(
            lambda: self.ledger.extend(r.household_id, r.expected_end + days * DAY, "review")
        )

    @precondition(lambda self: hasattr(self, "ledger"))
    @rule()
    def stale_or_repeated_approval(self) -> None:
        batches = self.ledger.table("batches")
        if batches.empty:
            return
        for batch_id in batches.batch_id:
            self._refused_changes_nothing(lambda b=int(batch_id): self.ledger.approve(b))

    @rule(bad=st.sampled_from(["2026-02-30", "07/12/2026", "", "next week"]))
    def bad_date(self, bad: str) -> None:
        self._refused_changes_nothing(lambda: self.ledger.propose(bad, method="greedy"))

    @invariant()
    def rules_hold(self) -> None:
        if hasattr(self, "ledger"):
            assert invariant_violations(self.ledger) == []
            assert exit_date_violations(self.ledger) == []
            status = self.ledger.status(self.week)
            housed = set(self.ledger.table("stays").household_id)
            n = len(self.ledger.table("households"))
            assert len(status["waiting"]) == n - len(housed)


def test_state_machine(ledger_url):
    class Machine(LedgerMachine):
        url = ledger_url

        def __init__(self) -> None:
            super().__init__()
            if "://" in ledger_url:  # every example starts from an empty database
                fresh_url("postgres", None)
            else:
                Path(ledger_url).unlink(missing_ok=True)

    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=10,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
