"""The model GLOP reads is the same message, byte for byte, whether written from the arrays in
protobuf's wire format (`optimiser.wire`) or field by field, so every solve and every simulated
week is unchanged."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.math_opt import model_pb2, parameters_pb2
from ortools.math_opt.core.python import solver as core_solver

from allocator.engine.columns import build_columns
from allocator.engine.instance import Overrides, build_instance
from allocator.engine.optimiser import backend, wire
from allocator.engine.optimiser.model import build_model
from allocator.examples import generate
from allocator.policy import Policy
from allocator.tables import validate_tables

START = dt.date(2026, 12, 7)


def field_by_field(m: backend.SparseModel) -> model_pb2.ModelProto:
    """The proto as the backend filled it before `wire`: the oracle."""
    proto = model_pb2.ModelProto()
    v = proto.variables
    v.ids.extend(range(len(m.cost)))
    v.lower_bounds.extend(m.var_lb.astype(float).tolist())
    v.upper_bounds.extend(m.var_ub.astype(float).tolist())
    v.integers.extend(m.integer.astype(bool).tolist())
    nz = np.flatnonzero(m.cost)
    proto.objective.linear_coefficients.ids.extend(nz.tolist())
    proto.objective.linear_coefficients.values.extend(m.cost[nz].astype(float).tolist())
    c = proto.linear_constraints
    c.ids.extend(range(len(m.row_lb)))
    c.lower_bounds.extend(m.row_lb.astype(float).tolist())
    c.upper_bounds.extend(m.row_ub.astype(float).tolist())
    order = np.lexsort((m.cols, m.rows))
    mat = proto.linear_constraint_matrix
    mat.row_ids.extend(m.rows[order].tolist())
    mat.column_ids.extend(m.cols[order].tolist())
    mat.coefficients.extend(m.vals[order].astype(float).tolist())
    return proto


@st.composite
def sparse_models(draw) -> backend.SparseModel:
    n = draw(st.integers(0, 40))
    m = draw(st.integers(0, 30))
    k = draw(st.integers(0, 80)) if n and m else 0
    floats = st.floats(-1e9, 1e9, allow_nan=False)
    bounds = st.sampled_from([0.0, 1.0, 3.0, np.inf, -np.inf, 2.5])
    cost = np.array(draw(st.lists(st.one_of(st.just(0.0), floats), min_size=n, max_size=n)))
    # ids up to 2^40: varints of one to six bytes
    big = draw(st.integers(0, 2**40))
    rows = np.array(draw(st.lists(st.integers(0, max(m - 1, 0)), min_size=k, max_size=k)))
    cols = np.array(draw(st.lists(st.integers(0, max(n - 1, 0)), min_size=k, max_size=k)))
    if k and draw(st.booleans()):
        rows[0] = big  # not a valid model, but the encoding must still agree
    return backend.SparseModel(
        cost=cost.astype(float),
        var_lb=np.array(draw(st.lists(bounds, min_size=n, max_size=n)), dtype=float),
        var_ub=np.array(draw(st.lists(bounds, min_size=n, max_size=n)), dtype=float),
        integer=np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool),
        rows=rows.astype(np.int64),
        cols=cols.astype(np.int64),
        vals=np.array(draw(st.lists(floats, min_size=k, max_size=k)), dtype=float),
        row_lb=np.array(draw(st.lists(bounds, min_size=m, max_size=m)), dtype=float),
        row_ub=np.array(draw(st.lists(bounds, min_size=m, max_size=m)), dtype=float),
    )


@settings(max_examples=150, deadline=None)
@given(sparse_models())
def test_wire_format_equals_the_proto_filled_field_by_field(m):
    """Any model: the same serialized bytes, twice (the second time from the cache)."""
    expected = field_by_field(m).SerializeToString()
    assert backend._to_proto(m).SerializeToString() == expected
    assert backend._to_proto(m).SerializeToString() == expected


def test_empty_model_keeps_its_empty_messages():
    """A model with nothing in it: the same (present, empty) messages as before."""
    empty = np.zeros(0)
    no_ids = np.zeros(0, dtype=np.int64)
    m = backend.SparseModel(
        empty, empty, empty, np.zeros(0, dtype=bool), no_ids, no_ids, empty, empty, empty
    )
    assert backend._to_proto(m) == field_by_field(m)
    assert backend._to_proto(m).HasField("objective")


def test_varints_match_protobuf_for_every_length():
    """Numbers that take 1 to 10 bytes as varints encode as protobuf encodes them."""
    values = np.array([0, 1, 127, 128, 300, 16383, 16384, 2**21, 2**35, 2**62, 2**63 - 1])
    proto = model_pb2.ModelProto()
    proto.variables.ids.extend(values.tolist())
    ours = wire.message(2, wire.packed_ints(1, values))
    assert ours == proto.SerializeToString()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_lp_answer_from_either_proto(seed):
    """GLOP solves an LP over every column of a generated batch to the same values, duals and
    objective from the model written either way."""
    households, units, stays = generate(20, 10, seed=seed, start=START, horizon_weeks=6)
    policy = Policy(horizon_weeks=6, support_capacity=25)
    inst = build_instance(validate_tables(households, units, stays), START, policy, Overrides())
    model = build_model(inst, build_columns(inst), integer=False)
    answers = []
    for proto in (backend._to_proto(model), field_by_field(model)):
        lp = backend.IncrementalLP(model)
        # the same object, its GLOP made from this proto
        lp._solver = core_solver.new(
            parameters_pb2.SOLVER_TYPE_GLOP, proto, parameters_pb2.SolverInitializerProto()
        )
        answers.append(lp.solve(10.0))
    first, second = answers
    assert first.optimal and second.optimal
    assert first.objective == second.objective
    assert np.array_equal(first.values, second.values)
    assert np.array_equal(first.duals, second.duals)
