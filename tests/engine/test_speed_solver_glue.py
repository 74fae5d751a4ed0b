"""The quicker glue around the solver gives the same numbers as the code it replaced: answers
read from protobuf's wire format, varints both ways, per-household minima and selections from
runs of columns, and an integral LP's objective from its columns' costs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.math_opt import solution_pb2, sparse_containers_pb2

from allocator.engine.columns import Columns, build_columns, objective, unplaced_cost
from allocator.engine.instance import Overrides, build_instance
from allocator.engine.optimiser import backend, pricing, wire
from allocator.engine.optimiser.model import ColumnIndex, base_model, layout_of
from allocator.engine.optimiser.solve import plan_objective
from allocator.examples import generate
from allocator.policy import Policy
from allocator.tables import validate_tables

START = dt.date(2026, 12, 7)


def field_by_field(sparse, n: int, dtype) -> np.ndarray:
    """The dense vector as the backend read it before: iterating the repeated fields."""
    out = np.zeros(n, dtype=dtype)
    out[np.array(list(sparse.ids), dtype=np.int64)] = np.array(list(sparse.values), dtype=dtype)
    return out


@st.composite
def sparse_vectors(draw):
    n = draw(st.integers(0, 400))
    every = draw(st.booleans())  # every id in order, as the duals come
    ids = list(range(n)) if every else sorted(draw(st.sets(st.integers(0, max(n - 1, 0)))))
    ids = [i for i in ids if i < n]
    floats = st.floats(allow_nan=False) | st.sampled_from([0.0, -0.0, np.inf, -np.inf, 1e-300])
    values = draw(st.lists(floats, min_size=len(ids), max_size=len(ids)))
    vector = sparse_containers_pb2.SparseDoubleVectorProto()
    vector.ids.extend(ids)
    vector.values.extend(values)
    return vector, n


@settings(max_examples=150, deadline=None)
@given(sparse_vectors())
def test_dense_from_the_wire_equals_field_by_field(case):
    """Any sparse vector: the same floats, bit for bit (signed zeros and infinities too)."""
    vector, n = case
    got, expected = backend._dense(vector, n), field_by_field(vector, n, float)
    assert got.dtype == expected.dtype and got.tobytes() == expected.tobytes()
    got[:] = 1.0  # a copy the caller may write to


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 3000), st.data())
def test_basis_statuses_from_the_wire_equal_field_by_field(n, data):
    """Any basis vector, of ids up to thousands (two-byte varints): the same statuses."""
    ids = sorted(data.draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=300)))
    ids = [i for i in ids if i < n]
    statuses = data.draw(st.lists(st.integers(0, 5), min_size=len(ids), max_size=len(ids)))
    vector = solution_pb2.SparseBasisStatusVector()
    vector.ids.extend(ids)
    vector.values.extend(statuses)
    got = backend._dense_status(vector, n)
    np.testing.assert_array_equal(got, field_by_field(vector, n, np.int64))
    assert got.dtype == np.int64


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 2**63 - 1) | st.integers(0, 20_000), max_size=300))
def test_varints_decode_to_what_was_encoded(numbers):
    """Numbers of 1 to 9 bytes, short and long payloads (Python's loop and numpy's)."""
    values = np.array(numbers, dtype=np.int64)
    decoded = wire.decode_varints(wire.encode_varints(values))
    assert decoded.dtype == np.int64
    np.testing.assert_array_equal(decoded, values)


def test_varints_cut_short_are_refused():
    """A payload that ends mid-number is an error, not a wrong number."""
    payload = wire.encode_varints(np.arange(1000, 1200))
    for cut in (payload[:-1], payload[:3]):
        with pytest.raises(ValueError):
            wire.decode_varints(cut)


def test_other_layouts_fall_back_to_the_fields():
    """A message with a field that is not length-delimited is not read from the wire."""
    assert wire.length_delimited(b"\x08\x01") is None  # a varint field
    assert wire.length_delimited(b"\x0a\x05ab") is None  # longer than the message
    assert wire.length_delimited(b"") == {}
    assert wire.count_varints(300) == wire.encode_varints(np.arange(300))


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 7), st.floats(-1e6, 1e6)), max_size=80),
    st.integers(1, 8),
    st.booleans(),
)
def test_per_household_minimum_from_runs_equals_a_scatter(pairs, n, grouped):
    """Columns in runs of a household (as built) or in any order, by runs or sorted: each
    household's minimum."""
    if grouped:
        pairs = sorted(pairs, key=lambda p: p[0] % n)
    household = np.array([h % n for h, _ in pairs], dtype=np.int64)
    values = np.array([v for _, v in pairs], dtype=float)
    expected = np.full(n, np.inf)
    np.minimum.at(expected, household, values)
    for min_run_length in (0, 10**6):  # always by runs, always sorted
        old, pricing.MIN_RUN_LENGTH = pricing.MIN_RUN_LENGTH, min_run_length
        try:
            lowest = pricing.per_household_minimum(household, n)
        finally:
            pricing.MIN_RUN_LENGTH = old
        np.testing.assert_array_equal(lowest(values), expected)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 3), st.sampled_from([0.0, 1.0, 2.5, np.inf])),
        max_size=80,
    ),
    st.integers(1, 6),
    st.integers(1, 4),
    st.data(),
)
def test_lowest_per_household_both_ways_equal_a_full_sort(rows, n, k, data):
    """Sorted outright (few columns) or bounded by runs first (many): the same selection."""
    rows = sorted(rows, key=lambda r: (r[1], r[0] % n))  # grouped by pool and household
    household = np.array([h % n for h, _, _ in rows], dtype=np.int64)
    pool = np.array([p for _, p, _ in rows], dtype=np.int64)
    values = np.array([v for _, _, v in rows], dtype=float)
    zero = np.zeros(len(rows), dtype=np.int64)
    cols = Columns(household, pool, zero, zero, zero, values)
    mask = data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
    for subset in (None, np.flatnonzero(mask)):
        idx = np.arange(len(rows)) if subset is None else subset
        order = idx[np.lexsort((values[idx], household[idx]))]
        expected = pricing.first_per_household(household, order, n, k)
        for sorted_up_to in (0, 10**6):
            old, pricing.SORTED_UP_TO = pricing.SORTED_UP_TO, sorted_up_to
            try:
                got = pricing.lowest_per_household(cols, values, n, k, among=subset)
            finally:
                pricing.SORTED_UP_TO = old
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_plan_objective_from_columns_equals_objective(seed):
    """Plans of one column per placed household: the columns' costs give `objective` exactly."""
    households, units, stays = generate(30, 12, seed=seed, start=START, horizon_weeks=6)
    policy = Policy(horizon_weeks=6, support_capacity=25)
    inst = build_instance(validate_tables(households, units, stays), START, policy, Overrides())
    cols = build_columns(inst)
    rng = np.random.default_rng(seed)
    unplaced = unplaced_cost(inst)
    for _ in range(20):
        chosen = []
        for i in range(inst.n_households):
            mine = np.flatnonzero(cols.household == i)
            if mine.size and rng.random() < 0.7:
                chosen.append(int(rng.choice(mine)))
        chosen_arr = rng.permutation(np.array(chosen, dtype=np.int64))
        pool = np.full(inst.n_households, -1, dtype=np.int64)
        start = pool.copy()
        pool[cols.household[chosen_arr]] = cols.pool[chosen_arr]
        start[cols.household[chosen_arr]] = cols.start[chosen_arr]
        got = plan_objective(cols, chosen_arr, pool >= 0, unplaced)
        assert got == objective(inst, pool, start)


@pytest.mark.parametrize("seed", [0, 1])
def test_lagrangian_bound_equals_the_diff_of_the_running_duals(seed):
    """Any duals: the bound from the running totals' differences, exactly as `np.diff` gives."""
    households, units, stays = generate(25, 10, seed=seed, start=START, horizon_weeks=6)
    policy = Policy(horizon_weeks=6, support_capacity=25)
    inst = build_instance(validate_tables(households, units, stays), START, policy, Overrides())
    base = base_model(inst)
    lay = layout_of(inst)
    n_chains = lay.P + lay.S + lay.M
    chain_ub = base.var_ub[lay.N : lay.N + n_chains * lay.H].reshape(n_chains, lay.H)
    bound = pricing.lagrangian_bound(inst, base)
    rng = np.random.default_rng(seed)
    for _ in range(10):
        duals = rng.normal(size=len(base.row_lb)) * rng.choice([0.0, 1.0, 1e3])
        lowest = rng.normal(size=lay.N)
        running = duals[lay.f0 : lay.f0 + n_chains * lay.H].reshape(n_chains, lay.H)
        chain_rc = np.diff(running, axis=1, append=0.0)
        shares = pricing.household_shares(base.cost[: lay.N], duals, lowest).sum()
        expected = float(shares + (np.minimum(chain_rc, 0.0) * chain_ub).sum())
        assert bound(duals, lowest) == expected


@pytest.mark.parametrize("shuffled", [False, True])
def test_column_finder_equals_the_column_index(shuffled):
    """Columns as built (looked up unsorted) or in another order: every plan's columns."""
    households, units, stays = generate(30, 12, seed=5, start=START, horizon_weeks=6)
    policy = Policy(horizon_weeks=6, support_capacity=25)
    inst = build_instance(validate_tables(households, units, stays), START, policy, Overrides())
    cols = build_columns(inst)
    rng = np.random.default_rng(0)
    if shuffled:
        cols = cols.take(rng.permutation(len(cols)))
    columns_of, index = pricing.column_finder(inst, cols), ColumnIndex(inst, cols)
    for _ in range(20):
        chosen = [int(rng.choice(np.flatnonzero(cols.household == i))) for i in range(5)]
        pool = np.full(inst.n_households, -1, dtype=np.int64)
        start = pool.copy()
        pool[cols.household[chosen]] = cols.pool[chosen]
        start[cols.household[chosen]] = cols.start[chosen]
        placed = np.flatnonzero(pool >= 0)
        expected = index.index(placed, pool[placed], start[placed])
        np.testing.assert_array_equal(columns_of(pool, start), expected)
        assert sorted(expected.tolist()) == sorted(chosen)
