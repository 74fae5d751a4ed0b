"""The plan and the ledger apply one set of engine rules: the same bad input, given to `plan` as
tables and to the ledger as operations, is refused by both for the same rule."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pandas as pd
import pytest

from allocator import InputError, plan
from allocator.ledger import Ledger
from allocator.ledger.database import read_policy, transaction
from allocator.ledger.rules import check_stay

START = dt.date(2026, 12, 7)
DAY = dt.timedelta(days=1)

UNITS = pd.DataFrame(
    [
        # 2 beds, not step-free, leaves the programme on 2027-03-01
        {"unit_id": "U1", "kind": "flat", "capacity": 2, "accessible": False,
         "available_from": None, "available_until": dt.date(2027, 3, 1)},
        # 4 beds, step-free, joins the programme on 2026-12-20
        {"unit_id": "U2", "kind": "flat", "capacity": 4, "accessible": True,
         "available_from": dt.date(2026, 12, 20), "available_until": None},
    ]
)  # fmt: skip
HOUSEHOLDS = pd.DataFrame(
    [
        {"household_id": "H1", "size": 2, "urgency": 3, "need_date": START,
         "expected_stay_days": 40, "accessible": False},
        {"household_id": "H2", "size": 3, "urgency": 3, "need_date": START,
         "expected_stay_days": 40, "accessible": False},
        {"household_id": "H3", "size": 1, "urgency": 3, "need_date": START,
         "expected_stay_days": 40, "accessible": True},
        {"household_id": "H4", "size": 1, "urgency": 3, "need_date": START,
         "expected_stay_days": 40, "accessible": False},
    ]
)  # fmt: skip
WAITING = pd.DataFrame(
    [{"household_id": "W1", "size": 1, "urgency": 1, "need_date": START, "expected_stay_days": 7}]
)


def stays(*rows: tuple) -> pd.DataFrame:
    """A stays table from (household, unit, start, end, extra columns) tuples."""
    return pd.DataFrame(
        [
            {"household_id": h, "unit_id": u, "start": a, "expected_end": b, **x}
            for h, u, a, b, x in rows
        ]
    )


def plan_refusal(stays_table: pd.DataFrame, units: pd.DataFrame = UNITS) -> str:
    with pytest.raises(InputError) as refused:
        plan(WAITING, units, stays_table, start=START, method="greedy")
    return str(refused.value)


def ledger_refusal(tmp_path, action: Callable[[Ledger], object]) -> str:
    with Ledger.open(str(tmp_path / "ledger.db"), actor="tester") as ledger:
        ledger.import_units(UNITS)
        ledger.import_requests(HOUSEHOLDS)
        with pytest.raises(InputError) as refused:
            action(ledger)
    return str(refused.value)


def rule_of(message: str) -> str:
    """The rule's name a refusal gives, without the turnover it counts."""
    found = re.search(r"rule '([a-z ]+)", message)
    assert found, message
    return found.group(1).strip()


def _never_split(ledger: Ledger) -> None:
    """The ledger's own check of a stay, as every operation runs it: H1 already has a stay."""
    ledger.move_in("H1", START, unit_id="U1")
    with transaction(ledger.engine, "tester") as s:
        check_stay(s, read_policy(s), "H1", "U2", START + 20 * DAY, START + 40 * DAY, None, "test")


def _moved_then_unit_leaves(ledger: Ledger) -> None:
    """H1 lives in U1 until 2027-02-15; U1 is then imported as leaving on 2027-01-15."""
    ledger.move_in("H1", START, unit_id="U1", expected_end=dt.date(2027, 2, 15))
    ledger.import_units(UNITS.assign(available_until=[dt.date(2027, 1, 15), None]))


def _household_grows(ledger: Ledger) -> None:
    ledger.move_in("H1", START, unit_id="U1")
    ledger.import_requests(HOUSEHOLDS.assign(size=[3, 3, 1, 1]))


CASES: dict[str, tuple] = {
    "capacity": (
        stays(("S1", "U1", START, START + 30 * DAY, {"size": 3})),
        lambda led: led.move_in("H2", START, unit_id="U1"),
    ),
    "capacity (the household grows)": (
        stays(("S1", "U1", START, START + 30 * DAY, {"size": 3})),
        _household_grows,
    ),
    "accessibility": (
        stays(("S1", "U1", START, START + 30 * DAY, {"accessible": True})),
        lambda led: led.move_in("H3", START, unit_id="U1"),
    ),
    "availability (until)": (
        stays(("S1", "U1", START, dt.date(2027, 4, 1), {})),
        lambda led: led.move_in("H1", START, unit_id="U1", expected_end=dt.date(2027, 4, 1)),
    ),
    "availability (the unit leaves before the stay ends)": (
        stays(("S1", "U1", START, dt.date(2027, 2, 15), {})),
        _moved_then_unit_leaves,
        UNITS.assign(available_until=[dt.date(2027, 1, 15), None]),
    ),
    "availability (from)": (
        stays(("S1", "U2", START, START + 30 * DAY, {})),
        lambda led: led.move_in("H1", START, unit_id="U2"),
    ),
    "no overlap (within the turnover days)": (
        stays(
            ("S1", "U1", START, START + 10 * DAY, {}),
            ("S2", "U1", START + 12 * DAY, START + 30 * DAY, {}),
        ),
        lambda led: (
            led.move_in("H1", START, unit_id="U1", expected_end=START + 10 * DAY),
            led.move_in("H4", START + 12 * DAY, unit_id="U1"),
        ),
    ),
    "never split": (
        stays(
            ("S1", "U1", START, START + 30 * DAY, {}),
            ("S1", "U2", START + 20 * DAY, START + 40 * DAY, {}),
        ),
        _never_split,
    ),
    "dates (the end before the start)": (
        stays(("S1", "U1", START, START, {})),
        lambda led: led.move_in("H1", START, unit_id="U1", expected_end=START),
    ),
    "dates (outside the window)": (
        stays(("S1", "U1", dt.date(2040, 1, 1), dt.date(2040, 2, 1), {})),
        lambda led: led.move_in("H1", dt.date(2040, 1, 1), unit_id="U1"),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_plan_and_the_ledger_refuse_for_the_same_rule(tmp_path, case) -> None:
    """Each rule, broken once as a table for `plan` and once as ledger operations."""
    table, action, *units = CASES[case]
    expected = case.split(" (")[0]
    from_plan = plan_refusal(table, *units)
    from_ledger = ledger_refusal(tmp_path, action)
    assert "\n" not in from_plan and "\n" not in from_ledger
    assert rule_of(from_plan) == rule_of(from_ledger) == expected, (from_plan, from_ledger)


def test_the_plan_accepts_what_the_ledger_keeps(tmp_path) -> None:
    """Stays the ledger accepted, as `batch propose` hands them to the engine, pass its rules
    (an overdue stay is assumed to stay no longer than its unit's window)."""
    with Ledger.open(str(tmp_path / "ledger.db"), actor="tester") as ledger:
        ledger.import_units(UNITS)
        ledger.import_requests(HOUSEHOLDS)
        ledger.move_in("H1", START - 60 * DAY, unit_id="U1", expected_end=START - DAY)
        ledger.move_in("H3", dt.date(2026, 12, 20), unit_id="U2")
        proposal = ledger.propose(START, method="greedy")
    assert set(proposal.placements.household_id) == {"H2", "H4"}
