"""The column generation's quicker bookkeeping builds the same LP and reads the same answers.

Placement columns go into the breakpoint LP read off the columns (`BreakpointLP.add_placements`)
as they did through the full model's entries; GLOP gets one update per solve instead of one per
call; the translated duals are summed with a bincount; the breakpoint LP's base is the base
model without its matrix; small varint payloads take shortcuts. Each is compared, bit for bit
where the numbers are the same, with the way it was done before.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.math_opt import model_parameters_pb2, model_update_pb2

from allocator.engine.columns import build_columns
from allocator.engine.optimiser import backend, wire
from allocator.engine.optimiser.breakpoint_lp import BreakpointLP
from allocator.engine.optimiser.model import base_bounds, base_model, column_entries
from allocator.testing import random_instance

instances = st.builds(
    random_instance,
    seed=st.integers(0, 10**6),
    n=st.integers(2, 12),
    m=st.integers(1, 7),
    weeks=st.integers(1, 3),
    rooms=st.booleans(),
)


def batches_of(n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    cuts_at = np.sort(rng.choice(np.arange(1, n + 1), size=min(3, n), replace=False))
    return np.split(order, cuts_at[:-1])


def intervals(lp: BreakpointLP) -> np.ndarray:
    """The LP's (start, end, weight, column id) per interval, in one order."""
    table = np.column_stack([lp._iv_s, lp._iv_e, lp._iv_w, lp._iv_vid])
    return table[np.lexsort(table.T[::-1])]


def entries(lp: BreakpointLP) -> np.ndarray:
    rows, vids, vals = (np.concatenate(x) for x in zip(*lp._entries, strict=True))
    table = np.column_stack([rows, vids, vals])
    return table[np.lexsort(table.T[::-1])]


def same_answer(a: backend.SolverAnswer, b: backend.SolverAnswer) -> None:
    assert a.optimal == b.optimal and a.objective == b.objective
    for x, y in ((a.values, b.values), (a.duals, b.duals)):
        assert x is not None and y is not None and x.tobytes() == y.tobytes()


@settings(max_examples=40, deadline=None)
@given(inst=instances, seed=st.integers(0, 2**32 - 1))
def test_placements_read_off_the_columns_make_the_lp_their_entries_make(inst, seed):
    """Batch by batch: the same intervals, rows, entries and answers, bit for bit."""
    cols = build_columns(inst)
    if len(cols) == 0:
        return
    base = base_model(inst)
    by_entries, by_columns = BreakpointLP(inst, base), BreakpointLP(inst, base)
    for idx in batches_of(len(cols), seed):
        sub = cols.take(idx)
        by_entries.add_columns(sub.cost, *column_entries(inst, sub, 0))
        by_columns.add_placements(inst, sub)
        np.testing.assert_array_equal(intervals(by_columns), intervals(by_entries))
        np.testing.assert_array_equal(by_columns._row_key, by_entries._row_key)
        np.testing.assert_array_equal(entries(by_columns), entries(by_entries))
        same_answer(by_columns.solve(10.0), by_entries.solve(10.0))


@settings(max_examples=30, deadline=None)
@given(inst=instances, seed=st.integers(0, 2**32 - 1))
def test_one_update_per_solve_solves_as_an_update_per_call(inst, seed):
    """One update before each solve gives the answers and bases an update per call gave."""
    cols = build_columns(inst)
    if len(cols) == 0:
        return
    base = base_model(inst)
    batched, each = BreakpointLP(inst, base), BreakpointLP(inst, base)
    assert batched.glop is not None  # made now: later columns and rows go in as updates
    glop = each.glop
    add_rows = glop.add_rows

    def add_rows_now(*args, **kwargs):  # an update for the rows, as before
        add_rows(*args, **kwargs)
        glop._flush()

    glop.add_rows = add_rows_now  # type: ignore[method-assign]
    for idx in batches_of(len(cols), seed):
        sub = cols.take(idx)
        rows, var, vals = column_entries(inst, sub, 0)
        batched.add_columns(sub.cost, rows, var, vals)
        each.add_columns(sub.cost, rows, var, vals)
        glop._flush()  # and one for the columns
        same_answer(batched.solve(10.0), each.solve(10.0))
        a, b = batched.basis(), each.basis()
        assert a is not None and b is not None
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


def field_by_field(cost, rows, local, vals, first_id: int) -> model_update_pb2.ModelUpdateProto:
    """The update of new columns as `IncrementalLP.add_columns` filled it before."""
    k = len(cost)
    ids = first_id + np.arange(k)
    update = model_update_pb2.ModelUpdateProto()
    nv = update.new_variables
    nv.ids.extend(ids.tolist())
    nv.lower_bounds.extend([0.0] * k)
    nv.upper_bounds.extend([1.0] * k)
    nv.integers.extend([False] * k)
    update.objective_updates.linear_coefficients.ids.extend(ids.tolist())
    update.objective_updates.linear_coefficients.values.extend(cost.astype(float).tolist())
    order = np.lexsort((first_id + local, rows))
    mat = update.linear_constraint_matrix_updates
    mat.row_ids.extend(rows[order].tolist())
    mat.column_ids.extend((first_id + local)[order].tolist())
    mat.coefficients.extend(vals[order].astype(float).tolist())
    return update


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.integers(0, 3000), st.integers(0, 2**32 - 1))
def test_new_columns_update_is_the_field_by_field_one(k, first_id, seed):
    """The update written in the wire format is the message filled field by field."""
    rng = np.random.default_rng(seed)
    n_entries = int(rng.integers(1, 4 * k + 1))
    cost = rng.normal(size=k) * 10.0 ** rng.integers(-3, 6)
    rows = rng.integers(0, 5000, n_entries)
    local = rng.integers(0, k, n_entries)
    vals = rng.choice([1.0, -1.0, 2.0, 0.5], n_entries)
    unique = np.unique(rows * k + local, return_index=True)[1]  # one entry per (row, column)
    rows, local, vals = rows[unique], local[unique], vals[unique]
    lp = backend.IncrementalLP(
        backend.SparseModel.without_entries(
            cost=np.zeros(first_id),
            var_lb=np.zeros(first_id),
            var_ub=np.ones(first_id),
            row_lb=np.zeros(5000),
            row_ub=np.ones(5000),
        )
    )
    sent = []
    lp._solver = type("Recorder", (), {"update": lambda self, u: sent.append(u) or True})()
    lp.add_columns(cost, rows, local, vals)
    lp._flush()
    assert len(sent) == 1 and sent[0] == field_by_field(cost, rows, local, vals, first_id)


def full_duals_by_scatter(lp: BreakpointLP, own: np.ndarray) -> np.ndarray:
    """`BreakpointLP.full_duals` as it was written first: np.add.at, sorting the ends each time."""
    N, K, n_chains, H = lp._N, lp._K, lp._n_chains, lp._H
    out = np.zeros(lp.n_rows)
    out[:N] = own[:N]
    out[lp._n_model_rows :] = own[lp._added]
    on_chain = lp._row_key >= 0
    b, pi = lp._row_key[on_chain], own[on_chain]
    binding = pi != 0
    b, pi = b[binding], pi[binding]
    big = np.iinfo(np.int64).max
    last = (b // K) * K + H
    last = np.minimum(
        last, np.append(lp._bp_keys, big)[np.searchsorted(lp._bp_keys, b, side="right")]
    )
    ends = np.sort(lp._iv_e)
    last = np.minimum(last, np.append(ends, big)[np.searchsorted(ends, b, side="right")])
    rises = lp._rises[:-1]
    last = np.minimum(last, np.append(rises, big)[np.searchsorted(rises, b, side="right")])
    flat = np.zeros(n_chains * K)
    np.add.at(flat, last - 1, pi)
    per_chain = flat.reshape(n_chains, K)[:, :H]
    out[N : N + n_chains * H] = -np.cumsum(per_chain[:, ::-1], axis=1)[:, ::-1].ravel()
    return out


@settings(max_examples=40, deadline=None)
@given(inst=instances, seed=st.integers(0, 2**32 - 1))
def test_translated_duals_are_those_summed_by_scatter(inst, seed):
    """After each batch's solve, and after removals: the same duals bit for bit."""
    cols = build_columns(inst)
    if len(cols) == 0:
        return
    lp = BreakpointLP(inst, base_model(inst))
    for idx in batches_of(len(cols), seed):
        lp.add_placements(inst, cols.take(idx))
        own = lp.glop.solve(10.0).duals
        assert own is not None
        assert lp.full_duals(own).tobytes() == full_duals_by_scatter(lp, own).tobytes()
        out = np.flatnonzero(lp.nonbasic_at_zero()[inst.n_households :])[::2]
        lp.remove(inst.n_households + out)
        own = lp.glop.solve(10.0).duals
        assert own is not None
        assert lp.full_duals(own).tobytes() == full_duals_by_scatter(lp, own).tobytes()


@settings(max_examples=40, deadline=None)
@given(inst=instances)
def test_the_base_without_its_matrix_has_the_base_models_costs_and_bounds(inst):
    """Costs and bounds of variables and rows equal `base_model`'s, dtypes too."""
    full, light = base_model(inst), base_bounds(inst)
    for name in ("cost", "var_lb", "var_ub", "integer", "row_lb", "row_ub"):
        a, b = getattr(full, name), getattr(light, name)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, (1 << 14) + 5) | st.integers(0, 127), max_size=200))
def test_short_varint_payloads_are_each_numbers_varint(numbers):
    """Short and one-byte payloads encode and decode as number by number."""
    values = np.array(numbers, dtype=np.int64)
    expected = b"".join(wire.varint(x) for x in numbers)
    assert wire.encode_varints(values) == expected
    np.testing.assert_array_equal(wire.decode_varints(expected), values)


def solve_parameters_by_fields(lp: backend.IncrementalLP, unread, var_status, row_status):
    """The model parameters `IncrementalLP.solve` filled field by field before."""
    params = model_parameters_pb2.ModelSolveParametersProto()
    params.reduced_costs_filter.filter_by_ids = True
    if unread is not None:
        first, end = unread
        values = params.variable_values_filter
        values.filter_by_ids = True
        values.filtered_ids.extend(range(first))
        values.filtered_ids.extend(lp._ids[end:].tolist())
    if var_status is not None:
        basis = params.initial_basis
        basis.variable_status.ids.extend(lp._ids.tolist())
        basis.variable_status.values.extend(var_status.tolist())
        basis.constraint_status.ids.extend(range(lp.n_rows))
        basis.constraint_status.values.extend(row_status.tolist())
    return params


@settings(max_examples=30, deadline=None)
@given(inst=instances, unread=st.booleans(), with_basis=st.booleans(), seed=st.integers(0, 99))
def test_solve_parameters_are_the_field_by_field_ones(inst, unread, with_basis, seed):
    """Filters and a basis by id (ids with gaps too) are the message filled field by field."""
    cols = build_columns(inst)
    base = base_model(inst)
    lp = backend.IncrementalLP(base)
    n0 = len(base.cost)
    if unread:
        lp.leave_values_out(inst.n_households, n0)
    rng = np.random.default_rng(seed)
    sub = cols.take(rng.permutation(len(cols))[: min(len(cols), 40)])
    lp.add_columns(sub.cost, *column_entries(inst, sub, 0))
    lp.solve(10.0)
    out = np.flatnonzero(lp.nonbasic_at_zero()[n0:])[::2]
    lp.remove(n0 + out)
    if with_basis:
        lp.set_basis(rng.integers(1, 6, lp.n_vars), rng.integers(1, 6, lp.n_rows))
    # the basis handed by id: one set, or the last one after a removal
    var_status = row_status = None
    if lp._basis_by_id:
        var_status, row_status = lp._var_status, lp._row_status
    sent = []

    class Recorder:
        def update(self, update):
            return True

        def solve(self, params, model_params, *rest):
            sent.append(model_params)
            raise RuntimeError("recorded")

    lp._solver = Recorder()
    assert not lp.solve(1.0).ok
    expected = solve_parameters_by_fields(
        lp, (inst.n_households, n0) if unread else None, var_status, row_status
    )
    assert sent == [expected]
