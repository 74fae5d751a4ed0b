"""The ledger's reports (`status`, `history`) on hand-built tables, without a database."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from allocator import Policy
from allocator.ledger import EXIT_PATHWAYS
from allocator.ledger.views import HISTORY_COLUMNS, history, status

D0 = dt.date(2026, 12, 7)
DAY = dt.timedelta(days=1)
UNIT = ["unit_id", "kind", "capacity", "available_from", "available_until"]
HOUSEHOLD = ["household_id", "size", "urgency", "need_date"]
HOUSEHOLD_EXIT = [*HOUSEHOLD, "expected_exit_date"]
STAY = [
    "stay_id",
    "household_id",
    "unit_id",
    "start",
    "expected_end",
    "moved_in",
    "actual_end",
    "exit_pathway",
]


def d(n: int) -> dt.date:
    return D0 + n * DAY


def tables(units, households, stays, weeks=()) -> dict[str, pd.DataFrame]:
    return {
        "units": pd.DataFrame(units, columns=UNIT),
        "households": pd.DataFrame(households, columns=HOUSEHOLD),
        "stays": pd.DataFrame(stays, columns=STAY),
        "batches": pd.DataFrame({"week": list(weeks)}),
    }


# --- status: one small ledger worked by hand -------------------------------------------------


@pytest.fixture
def ledger_today() -> dict[str, pd.DataFrame]:
    """U1 holds H1 two days past its expected end; H2 is planned in U2 from day 5; U3 opens on
    day 14; H3 and H4 have waited 10 days, H5 needs a place only from day 3."""
    return tables(
        units=[
            ("U1", "flat", 4, None, None),
            ("U2", "hub_room", 2, None, None),
            ("U3", "flat", 3, d(14), None),
        ],
        households=[
            ("H1", 3, 2, d(-20)),
            ("H2", 2, 4, d(-5)),
            ("H3", 1, 3, d(-10)),
            ("H4", 2, 5, d(-10)),
            ("H5", 1, 1, d(3)),
        ],
        stays=[
            (1, "H1", "U1", d(-10), d(-2), d(-10), None, None),
            (2, "H2", "U2", d(5), d(20), None, None, None),
        ],
    )


def test_occupancy_counts_an_overdue_household_as_present(ledger_today):
    """A household past its expected end still occupies its unit; a unit not yet open is closed."""
    occ = status(ledger_today, Policy(max_stay_days=30), D0)["occupancy"].set_index("unit_id")
    assert list(occ.state) == ["occupied", "free", "closed"]
    assert occ.loc["U1", "household_id"] == "H1" and occ.loc["U1", "persons"] == 3
    assert occ.loc["U1", "since"] == d(-10) and occ.loc["U1", "expected_end"] == d(-2)
    assert occ.loc["U2", "persons"] == 0 and pd.isna(occ.loc["U2", "household_id"])


def test_waiting_list_longest_wait_then_most_urgent(ledger_today):
    """Households without a stay, longest wait first, ties broken by urgency; none waits < 0 days."""
    waiting = status(ledger_today, Policy(), D0)["waiting"]
    assert list(waiting.household_id) == ["H4", "H3", "H5"]
    assert list(waiting.waiting_days) == [10, 10, 0]


def test_free_stretches_leave_turnover_after_each_stay(ledger_today):
    """U1 is free 3 turnover days after tomorrow; U2 until H2's start, then after its end."""
    free = status(ledger_today, Policy(turnover_days=3), D0, weeks=4)["free"]
    got = [(r.unit_id, r.free_from, r.free_until) for r in free.itertuples()]
    assert got == [("U1", d(4), None), ("U2", D0, d(5)), ("U2", d(23), None), ("U3", d(14), None)]


def test_summary_figures(ledger_today):
    """The summary row adds up the other tables."""
    summary = status(ledger_today, Policy(max_stay_days=30), D0)["summary"].iloc[0]
    assert summary.today == D0
    assert (summary.units, summary.units_occupied, summary.persons_housed) == (3, 1, 3)
    assert summary.households_waiting == 3 and summary.longest_wait_days == 10
    assert summary.average_wait_days == pytest.approx(20 / 3)
    assert (summary.stays_past_expected_end, summary.stays_past_max_stay) == (1, 0)
    assert summary.units_free_next_weeks == 3


def test_overdue_lists_past_end_past_max_and_ending_today():
    """Stays past their expected end, past the max stay, or ending today; exited ones never."""
    t = tables(
        units=[(f"U{k}", "flat", 2, None, None) for k in range(4)],
        households=[(f"H{k}", 1, 3, d(-30)) for k in range(4)],
        stays=[
            (1, "H0", "U0", d(-20), d(-1), d(-20), None, None),  # one day past its end
            (2, "H1", "U1", d(-9), d(10), d(-8), None, None),  # 8 days in, max 7
            (3, "H2", "U2", d(-3), D0, d(-3), None, None),  # ends today
            (4, "H3", "U3", d(-20), d(-5), d(-20), d(-4), "family"),  # left
        ],
    )
    overdue = status(t, Policy(max_stay_days=7), D0)["overdue"]
    got = [
        (r.stay_id, r.days_in, r.days_past_expected_end, r.past_max_stay)
        for r in overdue.itertuples()
    ]
    assert got == [(1, 20, 1, True), (2, 8, 0, True), (3, 3, 0, False)]


def test_a_unit_leaving_the_programme_is_free_only_until_it_leaves():
    t = tables([("U1", "flat", 2, None, d(10))], [("H1", 1, 3, D0)], [])
    free = status(t, Policy(), D0, weeks=4)["free"]
    assert [(r.free_from, r.free_until) for r in free.itertuples()] == [(D0, d(10))]


def test_empty_ledger_has_empty_tables_and_zero_figures():
    st_ = status(tables([], [], []), Policy(), D0)
    assert all(st_[name].empty for name in ("occupancy", "waiting", "overdue", "free"))
    summary = st_["summary"].iloc[0]
    assert summary.units == 0 and summary.average_wait_days == 0.0


def test_exit_dated_households_show_their_exit_in_every_status_table():
    """Occupancy, waiting and overdue carry the exit date (empty for a stay length); an
    exit-dated stay is past its expected end and past the max stay by the same rules."""
    households = [
        ("E1", 1, 3, d(-30), d(-2)),  # in U1, its exit date passed two days ago
        ("L1", 1, 3, d(-30), None),  # in U2 for a length, 8 days in with max 7
        ("E2", 2, 4, d(-5), d(40)),  # waiting
    ]
    t = tables(
        units=[("U1", "flat", 2, None, None), ("U2", "flat", 2, None, None)],
        households=[],
        stays=[
            (1, "E1", "U1", d(-20), d(-2), d(-20), None, None),
            (2, "L1", "U2", d(-8), d(10), d(-8), None, None),
        ],
    )
    t["households"] = pd.DataFrame(households, columns=HOUSEHOLD_EXIT)
    result = status(t, Policy(max_stay_days=7), D0)
    occupancy = result["occupancy"].set_index("household_id")
    assert occupancy.expected_exit_date["E1"] == d(-2) and pd.isna(
        occupancy.expected_exit_date["L1"]
    )
    waiting = result["waiting"]
    assert list(waiting.household_id) == ["E2"] and list(waiting.expected_exit_date) == [d(40)]
    overdue = result["overdue"]
    got = [
        (r.household_id, r.expected_exit_date, r.days_past_expected_end, r.past_max_stay)
        for r in overdue.itertuples()
    ]
    assert got == [("E1", d(-2), 2, True), ("L1", None, 0, True)]


def test_hotel_nights_of_an_exit_dated_household_stop_at_its_exit_date():
    """A household never placed leaves the hotel on its exit date, as the engine counts it."""
    households = pd.DataFrame(
        [("E1", 2, 3, D0, d(10)), ("L1", 1, 3, D0, None)], columns=HOUSEHOLD_EXIT
    )
    t = {**tables([("U1", "flat", 2, None, None)], [], [], weeks=[D0]), "households": households}
    h = history(t, Policy(), end=d(21))
    assert list(h.hotel_person_nights) == [2 * 7 + 7, 2 * 3 + 7, 7]


# --- history: one unit, two stays, three weeks ----------------------------------------------


@pytest.fixture
def three_weeks() -> dict[str, pd.DataFrame]:
    """H1 (2 persons) in U1 from day 0, leaves on day 10; H2 (1 person) moves in on day 14."""
    return tables(
        units=[("U1", "flat", 2, None, None)],
        households=[("H1", 2, 3, D0), ("H2", 1, 3, D0)],
        stays=[
            (1, "H1", "U1", D0, d(14), D0, d(10), "family"),
            (2, "H2", "U1", d(14), d(30), d(14), None, None),
        ],
        weeks=[D0],
    )


def test_history_weekly_figures_by_hand(three_weeks):
    """Nights, persons, stay lengths, exits, turnover lost and hotel nights of each week."""
    h = history(three_weeks, Policy(turnover_days=3))
    assert list(h.week) == [D0, d(7), d(14)]  # through the last move-in
    assert list(h.unit_nights_available) == [7, 7, 7]
    assert list(h.unit_nights_occupied) == [7, 3, 7]
    assert list(h.occupancy) == [1.0, 0.4286, 1.0]
    assert list(h.persons_housed) == [2.0, 0.86, 1.0]
    assert list(h.stays) == [1, 1, 1]
    assert list(h.average_stay_days) == [7.0, 10.0, 7.0]
    assert list(h.exits) == [0, 1, 0] and list(h.exits_family) == [0, 1, 0]
    assert list(h.turnover_days_lost) == [0, 0, 4]  # U1 empty from day 10 to day 14
    assert list(h.hotel_person_nights) == [7, 7, 0]  # H2 waits two weeks


def test_history_counts_stays_over_the_max_stay_at_the_weeks_end(three_weeks):
    h = history(three_weeks, Policy(max_stay_days=5))
    assert list(h.over_max_stay) == [1, 0, 1]  # H1 has left before the end of week 2


def test_history_between_given_dates(three_weeks):
    h = history(three_weeks, Policy(), start=d(7), end=d(21))
    assert list(h.week) == [d(7), d(14)]
    assert list(h.unit_nights_occupied) == [3, 7]


def test_history_without_batches_starts_at_the_first_stay(three_weeks):
    h = history({**three_weeks, "batches": pd.DataFrame({"week": []})}, Policy())
    assert h.week.iloc[0] == D0


def test_history_of_an_empty_ledger_is_empty():
    h = history(tables([], [], []), Policy())
    assert h.empty and list(h.columns) == HISTORY_COLUMNS


def test_timestamps_and_missing_values_read_as_dates(three_weeks):
    """Tables read from a file hold Timestamps and NaT; the figures are the same."""
    t = {name: frame.copy() for name, frame in three_weeks.items()}
    for c in ("start", "expected_end", "moved_in", "actual_end"):
        t["stays"][c] = pd.to_datetime(t["stays"][c])
    t["households"]["need_date"] = pd.to_datetime(t["households"]["need_date"])
    pd.testing.assert_frame_equal(history(t, Policy()), history(three_weeks, Policy()))


# --- properties on generated, rule-abiding ledgers -------------------------------------------


@st.composite
def ledgers(draw) -> dict[str, pd.DataFrame]:
    """Units with back-to-back stays (turnover kept); in each unit only the last stay may still
    be open, as the ledger's rules allow; households fit their unit; some still wait."""
    turnover = 3
    units, households, stays = [], [], []
    for u in range(draw(st.integers(1, 4))):
        cap = draw(st.integers(1, 6))
        opens = draw(st.sampled_from([None, D0]))
        units.append((f"U{u}", draw(st.sampled_from(["flat", "hub_room"])), cap, opens, None))
        day = D0 + draw(st.integers(0, 20)) * DAY
        n = draw(st.integers(0, 4))
        for k in range(n):
            hid = f"H{u}-{k}"
            households.append(
                (hid, draw(st.integers(1, cap)), 3, day - draw(st.integers(0, 40)) * DAY)
            )
            length = draw(st.integers(1, 60)) * DAY
            state = "exited" if k < n - 1 else draw(st.sampled_from(["planned", "in", "exited"]))
            moved = day if state != "planned" else None
            left = day + length if state == "exited" else None
            pathway = draw(st.sampled_from(EXIT_PATHWAYS)) if left else None
            stays.append((len(stays) + 1, hid, f"U{u}", day, day + length, moved, left, pathway))
            day += length + (turnover + draw(st.integers(0, 10))) * DAY
    for k in range(draw(st.integers(0, 5))):
        households.append((f"W{k}", draw(st.integers(1, 6)), draw(st.integers(1, 5)), d(k * 3)))
    weeks = [D0] if draw(st.booleans()) else []
    return tables(units, households, stays, weeks)


@given(ledgers())
def test_occupied_nights_never_exceed_available_ones(t):
    """No week has more occupied unit-nights than unit-days, and every exit is counted once."""
    h = history(t, Policy(turnover_days=3))
    assert (h.unit_nights_occupied <= h.unit_nights_available).all()
    assert h.occupancy.between(0, 1).all()
    assert (h.hotel_person_nights >= 0).all()
    assert list(h.week) == [h.week.iloc[0] + 7 * k * DAY for k in range(len(h))]
    assert h.exits.sum() == t["stays"].actual_end.notna().sum()
    assert (h[[f"exits_{p}" for p in EXIT_PATHWAYS]].sum(axis=1) == h.exits).all()


@given(ledgers(), st.integers(-10, 200), st.integers(1, 8))
def test_status_never_reports_a_unit_free_while_a_stay_holds_it(t, offset, weeks):
    """Free stretches lie in the window, and clear of every stay plus its turnover."""
    today = d(offset)
    result = status(t, Policy(turnover_days=3), today, weeks)
    horizon = today + 7 * weeks * DAY
    s = t["stays"]
    for r in result["free"].itertuples():
        until = r.free_until or horizon
        assert today <= r.free_from < until <= horizon
        for x in s[s.unit_id == r.unit_id].itertuples():
            start = x.moved_in or x.start
            end = x.actual_end or (
                max(x.expected_end, today + DAY) if x.moved_in else x.expected_end
            )
            assert until <= start or end + 3 * DAY <= r.free_from
    housed = set(s.household_id)
    assert len(result["waiting"]) == len(set(t["households"].household_id) - housed)
    assert len(result["occupancy"]) == len(t["units"])
    assert result["occupancy"].persons.sum() <= t["units"].capacity.sum()


@given(ledgers(), st.randoms(use_true_random=False))
def test_row_order_of_the_tables_does_not_matter(t, rnd):
    shuffled = {
        name: frame.sample(frac=1, random_state=rnd.randint(0, 2**31)) for name, frame in t.items()
    }
    pd.testing.assert_frame_equal(history(shuffled, Policy()), history(t, Policy()))
    a, b = status(shuffled, Policy(), d(20)), status(t, Policy(), d(20))
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
