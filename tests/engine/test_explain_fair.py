"""The fairness bound's sentences in the reasons: who the bound decided, in the spec's words."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocator.engine.announcements import NOTE_SEPARATOR, NOTE_START, note_in
from allocator.engine.explain import explain
from allocator.engine.explain_fair import (
    MARK,
    fair_details,
    fair_sentences,
    with_sentences,
)
from allocator.engine.instance import build_instance
from allocator.engine.optimiser.fairness import FairnessRecord
from allocator.engine.planning import _written_up, decide, plan
from allocator.errors import Message
from allocator.policy import Policy
from allocator.tables import validate_tables
from allocator.testing import random_scenario

START = dt.date(2026, 3, 2)
AHEAD = "placed ahead of households who asked later: it had waited 40 days (fairness bound)"
KEPT = (
    "unit F3 on 2026-03-02 kept for household H017, who asked earlier and had waited 40 days "
    "(fairness bound)"
)


def _households() -> list[dict]:
    """H017 has waited 40 days (urgency 1); H020 asked on the plan's start (urgency 5); each
    stays 30 nights, so one 2-week horizon holds one of them in the single unit."""
    common = {"size": 1, "expected_stay_days": 30}
    return [
        {
            **common,
            "household_id": "H017",
            "urgency": 1,
            "need_date": START - dt.timedelta(days=40),
        },
        {**common, "household_id": "H020", "urgency": 5, "need_date": START},
    ]


UNITS = [{"unit_id": "F3", "kind": "flat", "capacity": 2}]


def _instance(days: int | None = 30):
    policy = Policy(horizon_weeks=2, fair_wait_days=days)
    tables = validate_tables(_households(), UNITS, None, start=START, turnover_days=0)
    return build_instance(tables, START, policy)


def _bound_plan() -> tuple:
    """The bounded plan (H017 in F3 on day 0, H020 left out) and the record of the bound: the
    plan before it had H020 there, one row forbids that."""
    inst = _instance()
    pool = np.array([0, -1])
    start = np.array([0, -1])
    unit = np.array([0, -1])
    record = FairnessRecord(
        30, np.array([[0, 1, 0, 0]]), np.array([-1, 0]), np.array([-1, 0]), True
    )
    return inst, pool, start, unit, record


def test_both_households_the_bound_decided_get_the_specs_sentence():
    """The waiting household is placed ahead, the later one's slot was kept for it."""
    inst, pool, start, unit, record = _bound_plan()
    said = fair_sentences(inst, record, pool, start, unit)
    assert {i: [str(m) for m in ms] for i, ms in said.items()} == {0: [AHEAD], 1: [KEPT]}
    assert all(isinstance(m, Message) for ms in said.values() for m in ms)
    assert said[1][0].params["household"] == "H017"
    assert fair_details(record, said) == {
        "fairness": {"days": 30, "rows": 1, "binding": True, "households_decided": 2}
    }


def test_a_bound_that_did_not_bind_or_is_off_says_nothing():
    """No record, or a record that did not change the plan: no sentence, no household decided."""
    inst, pool, start, unit, record = _bound_plan()
    assert fair_sentences(inst, None, pool, start, unit) == {}
    idle = dataclasses.replace(record, binding=False, before_pool=pool, before_start=start)
    assert fair_sentences(inst, idle, pool, start, unit) == {}
    assert fair_details(None, {}) == {}
    assert fair_details(idle, {})["fairness"]["households_decided"] == 0


def test_a_household_in_the_slot_it_held_before_is_not_decided():
    """A row whose later household still starts there (the waiting one started by then) names
    nobody: only placements that differ from the plan before the bound get a sentence."""
    inst, pool, start, unit, record = _bound_plan()
    same = dataclasses.replace(record, before_pool=pool.copy(), before_start=start.copy())
    assert fair_sentences(inst, same, pool, start, unit) == {}


def test_one_day_is_singular():
    """A wait of one day reads "1 day"."""
    inst, pool, start, unit, record = _bound_plan()
    inst.need_day[0] = -1
    said = fair_sentences(inst, record, pool, start, unit)
    assert "it had waited 1 day (fairness bound)" in str(said[0][0])
    assert "had waited 1 day (fairness bound)" in str(said[1][0])


def test_the_sentence_goes_before_an_announcement_note():
    """An announcement's note stays last, where `note_in` finds it."""
    sentence = [Message("placed ahead (fairness bound)")]
    note = f"{NOTE_START}F3 from 2026-03-09: changed"
    reason = f"flat F3 (2 beds for 1){NOTE_SEPARATOR}{note}"
    joined = with_sentences(reason, sentence)
    assert joined == f"flat F3 (2 beds for 1); placed ahead (fairness bound){NOTE_SEPARATOR}{note}"
    assert note_in(joined) == note
    assert with_sentences(note, sentence) == f"placed ahead (fairness bound){NOTE_SEPARATOR}{note}"
    assert with_sentences("why", sentence) == "why; placed ahead (fairness bound)"
    assert with_sentences(None, sentence) == "placed ahead (fairness bound)"


# --- the plan's reasons, with the optimiser's bound ------------------------------------------


def _plan(days: int | None):
    policy = Policy(horizon_weeks=2, fair_wait_days=days)
    return plan(_households(), UNITS, None, start=START, policy=policy, time_limit=20)


def test_with_the_bound_binding_both_reasons_name_it_and_without_neither():
    """One unit, a long-waiting urgency-1 household and a new urgency-5 one: with the bound the
    first is placed and both reasons say the bound decided; without it, neither mentions it."""
    bound = _plan(30)
    rows = bound.placements.set_index("household_id")
    assert rows.at["H017", "unit_id"] == "F3"
    assert rows.at["H017", "reason"].endswith(AHEAD)
    assert rows.at["H020", "reason"].endswith(KEPT)
    assert bound.details["fairness"]["households_decided"] == 2
    free = _plan(None)
    rows = free.placements.set_index("household_id")
    assert rows.at["H020", "unit_id"] == "F3"
    assert not rows.reason.str.contains(MARK, regex=False).any()
    assert "fairness" not in free.details


def test_households_the_bound_did_not_decide_keep_their_reasons():
    """Every reason is explain's for the final plan, with the bound's sentences after it only
    for the households the bound decided (here a third household in its own unit)."""
    households = [*_households(), {**_households()[1], "household_id": "H030", "size": 3}]
    units = [*UNITS, {"unit_id": "F4", "kind": "flat", "capacity": 3}]
    policy = Policy(horizon_weeks=2, fair_wait_days=30)
    d = decide(households, units, None, start=START, policy=policy, time_limit=20)
    plain = explain(d.inst, d.pool, d.start, d.unit, d.method, d.joined)
    said = fair_sentences(d.inst, d.fairness, d.pool, d.start, d.unit, d.joined)
    reasons = _written_up(d, True).placements.reason.tolist()
    assert sorted(said) == [0, 1]
    assert reasons[2] == plain[2] and MARK not in reasons[2]
    for i in (0, 1):
        assert reasons[i] == with_sentences(plain[i], said[i])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), days=st.sampled_from([0, 3, 10]))
def test_only_households_whose_placement_moved_are_decided(seed: int, days: int):
    """On random small instances with the bound: a reason names the bound only for a household
    whose placement differs from the plan before the bound; every other reason is explain's."""
    sc = random_scenario(seed, n_households=8, n_units=3, horizon_weeks=2)
    policy = sc.policy.model_copy(update={"fair_wait_days": days})
    sc = dataclasses.replace(sc, policy=Policy.model_validate(policy.model_dump()))
    d = sc.decide("solver", time_limit=10)
    plain = explain(d.inst, d.pool, d.start, d.unit, d.method, d.joined)
    reasons = _written_up(d, True).placements.reason.tolist()
    rec = d.fairness
    for i, reason in enumerate(reasons):
        if MARK not in reason:
            assert reason == plain[i]
            continue
        assert rec is not None and rec.binding
        before = rec.before_pool[i], rec.before_start[i]
        moved = before[0] != d.pool[i] or (d.pool[i] >= 0 and before[1] != d.start[i])
        assert moved, reason


def test_a_unit_is_said_kept_only_for_a_household_still_waiting_or_in_it_that_day():
    """The bound's "unit U on day t kept for household h" holds in the final plan: h has not
    moved in by t,
    or it is in that unit on t (these seeds named one that had moved in elsewhere, or days
    before, from a row of the plan before the bound)."""
    checked = 0
    for seed in (11, 55, 57, 69, 71):
        rng = np.random.default_rng(7000 + seed)
        sc = random_scenario(
            rng,
            n_households=int(rng.integers(4, 12)),
            n_units=int(rng.integers(1, 4)),
            horizon_weeks=int(rng.integers(1, 3)),
            max_stay_days=int(rng.choice([4, 8, 20])),
            exit_dated_share=float(rng.choice([0.0, 0.5])),
        )
        sc.policy = sc.policy.model_copy(update={"fair_wait_days": int(rng.choice([0, 2, 5]))})
        d = sc.decide("solver", time_limit=10)
        inst = d.inst
        said = fair_sentences(inst, d.fairness, d.pool, d.start, d.unit, d.joined)
        for sentences in said.values():
            for m in sentences:
                if "household" not in m.params:
                    continue
                checked += 1
                h = inst.household_ids.index(m.params["household"])
                t = (m.params["date"] - inst.day(0)).days
                room = m.params.get("unit", m.params.get("rooms"))
                named = inst.unit_ids.index(room.split("+")[0])
                placed, s = d.pool[h] >= 0, int(d.start[h])
                nights = inst.stay_length_at(h, s) if placed else 0
                holds = placed and d.unit[h] == named and s <= t < s + nights
                assert not placed or s > t or holds, str(m)
    assert checked
