"""The only module that talks to OR-Tools: sparse arrays in, solution arrays out.

The model is handed to MathOpt as a `ModelProto` filled straight from numpy arrays: MathOpt's
object API costs about 10 us per variable to build, which at a million columns is longer than the
solve. HiGHS, behind MathOpt, solves both the LP and the MIP. A watchdog thread interrupts a solve
that overshoots its time limit (presolve does not always look at the clock), or whose search has
been asked to stop (`stopping`).
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.math_opt import (
    callback_pb2,
    model_parameters_pb2,
    model_pb2,
    model_update_pb2,
    parameters_pb2,
    result_pb2,
    solution_pb2,
)
from ortools.math_opt.core.python import solver as core_solver
from ortools.util.python import pybind_solve_interrupter

from allocator.engine.optimiser import wire

log = logging.getLogger("allocator")


@dataclass
class SparseModel:
    """min c.x  s.t.  row_lb <= A x <= row_ub,  var_lb <= x <= var_ub, some x integer."""

    cost: np.ndarray
    var_lb: np.ndarray
    var_ub: np.ndarray
    integer: np.ndarray  # bool per variable
    rows: np.ndarray  # COO entries
    cols: np.ndarray
    vals: np.ndarray
    row_lb: np.ndarray
    row_ub: np.ndarray

    @classmethod
    def without_entries(
        cls,
        cost: np.ndarray,
        var_lb: np.ndarray,
        var_ub: np.ndarray,
        row_lb: np.ndarray,
        row_ub: np.ndarray,
    ) -> SparseModel:
        """Continuous variables and rows with no matrix entry yet: an LP that columns are added
        to (`IncrementalLP`), or only bounds (`model.base_bounds`)."""
        empty = np.zeros(0, dtype=np.int64)
        return cls(
            cost=cost,
            var_lb=var_lb,
            var_ub=var_ub,
            integer=np.zeros(len(cost), dtype=bool),
            rows=empty,
            cols=empty,
            vals=np.zeros(0),
            row_lb=row_lb,
            row_ub=row_ub,
        )


@dataclass
class SolverAnswer:
    ok: bool  # a primal solution is available
    optimal: bool
    values: np.ndarray | None
    objective: float
    bound: float
    reduced_costs: np.ndarray | None
    duals: np.ndarray | None
    seconds: float
    reason: str
    infeasible: bool = False  # the solver proved it: no solution at all


def _to_proto(m: SparseModel) -> model_pb2.ModelProto:
    """The model as MathOpt's proto, written in protobuf's wire format from the arrays
    (`wire`): the same message as filling it field by field, in a fraction of the time."""
    return model_pb2.ModelProto.FromString(model_bytes(m))


def model_bytes(m: SparseModel) -> bytes:
    """`ModelProto`'s wire format: variables (2), objective (3), linear constraints (4) and
    their matrix (5), entries in row-major order as MathOpt requires."""
    n, k = len(m.cost), len(m.row_lb)
    variables = (
        wire.packed_ints(1, np.arange(n))
        + wire.packed_doubles(2, m.var_lb)
        + wire.packed_doubles(3, m.var_ub)
        + wire.packed_bools(4, m.integer)
    )
    nz = np.flatnonzero(m.cost)
    linear = wire.packed_ints(1, nz) + wire.packed_doubles(2, m.cost[nz])
    constraints = (
        wire.packed_ints(1, np.arange(k))
        + wire.packed_doubles(2, m.row_lb)
        + wire.packed_doubles(3, m.row_ub)
    )
    order = np.lexsort((m.cols, m.rows))
    matrix = (
        wire.packed_ints(1, m.rows[order])
        + wire.packed_ints(2, m.cols[order])
        + wire.packed_doubles(3, m.vals[order])
    )
    return (
        wire.message(2, variables)
        + wire.message(3, wire.message(3, linear))
        + wire.message(4, constraints)
        + wire.message(5, matrix)
    )


def solve(
    model: SparseModel,
    *,
    time_limit: float,
    threads: int,
    seed: int,
    relative_gap: float = 1e-6,
    want_duals: bool = False,
    cutoff: float | None = None,
    interior_point: bool = False,
    lean: bool = False,
) -> SolverAnswer:
    """Solve with HiGHS through MathOpt; never raises for a time-out, reports it instead.

    With a ``cutoff`` HiGHS looks only for solutions below it and prunes every branch that cannot
    beat it (a MIP that must prove its incumbent optimal takes far less time). Its
    reported bound then holds only for solutions below the cutoff, so the answer's bound is the
    lower of the two, which holds for every solution.

    ``interior_point`` solves an LP by HiGHS's barrier without crossover: its duals then lie
    inside the optimal face, not at a vertex of it, which reduced-cost fixing wants (a vertex
    prices many columns at or near zero).

    ``lean``: a MIP is never restarted (HiGHS restarts one whose root fixed many columns,
    presolving it again) and runs none of HiGHS's primal heuristics (`_LEAN_OFF`): with the
    incumbent as the cutoff, a proof wants the bound, and branching still finds any better plan.
    """
    if _stop_requested():  # before the model is copied into a proto, which takes a while
        return _interrupted()
    proto = _to_proto(model)
    params = _params_with_limit(time_limit)
    # HiGHS's own `threads` option (MathOpt refuses its generic one) made same-seed plans differ
    # between runs: HiGHS keeps its defaults, so a seed gives one plan
    del threads
    params.random_seed = seed
    if model.integer.any():
        params.relative_gap_tolerance = relative_gap
        params.absolute_gap_tolerance = 1e-6
        if lean:
            for option in _LEAN_OFF:
                params.highs.bool_options[option] = False
    if interior_point:
        params.lp_algorithm = parameters_pb2.LP_ALGORITHM_BARRIER
        params.highs.string_options["run_crossover"] = "off"
    if cutoff is not None:  # MathOpt's generic cutoff_limit is refused for HiGHS
        params.highs.double_options["objective_bound"] = cutoff
    result = _guarded(
        params,
        lambda interrupter: core_solver.solve(
            proto,
            parameters_pb2.SOLVER_TYPE_HIGHS,
            parameters_pb2.SolverInitializerProto(),
            params,
            model_parameters_pb2.ModelSolveParametersProto(),
            None,
            callback_pb2.CallbackRegistrationProto(),
            None,
            interrupter,
        ),
    )
    if isinstance(result, SolverAnswer):
        return result
    answer = _parse(result, len(model.cost), len(model.row_lb), want_duals)
    if cutoff is not None:
        answer.bound = cutoff if answer.infeasible else min(answer.bound, cutoff)
        if answer.infeasible or (answer.optimal and not answer.objective < cutoff):
            answer.optimal, answer.reason = False, f"no solution below the cutoff {cutoff:.6g}"
    return answer


# what a lean MIP turns off: HiGHS's restarts and its primal heuristics, which look for plans
# below the cutoff that branching finds anyway when there is one
_LEAN_OFF = (
    "mip_allow_restart",
    "mip_heuristic_run_rins",
    "mip_heuristic_run_rens",
    "mip_heuristic_run_feasibility_jump",
    "mip_heuristic_run_zi_round",
    "mip_heuristic_run_shifting",
    "mip_heuristic_run_root_reduced_cost",
)


def _params_with_limit(time_limit: float) -> parameters_pb2.SolveParametersProto:
    params = parameters_pb2.SolveParametersProto()
    limit = max(time_limit, 0.01)
    params.time_limit.seconds = int(limit)
    params.time_limit.nanos = int((limit - int(limit)) * 1e9)
    return params


# the stop event of the search that starts a solve (`stopping`); a context variable, so that a
# thread given a copy of the search's context (the dive beside the LP) sees it too
_STOP: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "allocator_stop", default=None
)
STOP_POLL = 0.05  # seconds between the watchdog's looks at the stop events of running solves


@contextmanager
def stopping(stop: threading.Event | None) -> Iterator[None]:
    """Solves started inside end as soon as ``stop`` is set: a running one is interrupted by the
    watchdog within `STOP_POLL` seconds, a later one returns at once, as if out of time."""
    token = _STOP.set(stop)
    try:
        yield
    finally:
        _STOP.reset(token)


def _stop_requested() -> bool:
    stop = _STOP.get()
    return stop is not None and stop.is_set()


def _interrupted() -> SolverAnswer:
    """What a solve refused because the search is stopping returns: no solution, as a time-out."""
    return SolverAnswer(False, False, None, np.inf, -np.inf, None, None, 0.0, "INTERRUPTED")


def interrupt_all() -> None:
    """Interrupt every solve running in this process now; each returns as if out of time."""
    _WATCHDOG.interrupt_all()


class _Watchdog:
    """One thread per process that interrupts any solve running past its deadline, or whose
    search's stop event is set.

    A `threading.Timer` per solve pays a thread start-up each time, a noticeable share of a small
    weekly solve in a simulation; this thread is started once (again in a forked child) and sleeps
    until the earliest deadline of the solves in flight (looking at their stop events every
    `STOP_POLL` seconds while one has any).
    """

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._cv = threading.Condition()
        self._armed: dict[int, tuple[float, Any, threading.Event | None]] = {}
        self._thread: threading.Thread | None = None
        self._next = 0

    def arm(self, seconds: float, interrupter: Any, stop: threading.Event | None = None) -> int:
        with self._cv:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True, name="watchdog")
                self._thread.start()
            self._next += 1
            self._armed[self._next] = (time.monotonic() + seconds, interrupter, stop)
            self._cv.notify()
            return self._next

    def disarm(self, token: int) -> None:
        with self._cv:
            self._armed.pop(token, None)

    def interrupt_all(self) -> None:
        with self._cv:
            for _, interrupter, _ in self._armed.values():
                interrupter.interrupt()
            self._armed.clear()

    def _run(self) -> None:
        with self._cv:
            while True:
                if not self._armed:
                    self._cv.wait()
                    continue
                now = time.monotonic()
                for token, (deadline, interrupter, stop) in list(self._armed.items()):
                    if deadline <= now or (stop is not None and stop.is_set()):
                        interrupter.interrupt()
                        del self._armed[token]
                if self._armed:
                    left = min(deadline for deadline, _, _ in self._armed.values()) - now
                    if any(stop is not None for _, _, stop in self._armed.values()):
                        left = min(left, STOP_POLL)
                    self._cv.wait(left)


_WATCHDOG = _Watchdog()


def _guarded(params, run):
    """Run a solve under the watchdog (presolve may not look at the clock: interrupt a little
    after the limit); a solver failure becomes a failed answer, so the caller falls back, never
    crashes."""
    limit = params.time_limit.seconds + params.time_limit.nanos * 1e-9
    if _stop_requested():  # the search is stopping: no new solve
        return _interrupted()
    interrupter = pybind_solve_interrupter.PySolveInterrupter()
    token = _WATCHDOG.arm(limit + 0.5, interrupter, _STOP.get())
    try:
        return run(interrupter)
    except Exception as exc:
        log.warning("solver failed: %s", exc)
        return SolverAnswer(
            False, False, None, np.inf, -np.inf, None, None, 0.0, f"solver error: {exc}"
        )
    finally:
        _WATCHDOG.disarm(token)


def _dense(sparse, n: int) -> np.ndarray:
    """A sparse vector of the answer (ids, values) as n floats, 0 where no id is given."""
    fields = wire.length_delimited(sparse.SerializeToString())
    if fields is None or not fields.keys() <= {1, 2}:  # not as protobuf packs it: field by field
        return _dense_fields(sparse, n, float)
    # read from the wire format: the values are the packed doubles' own bytes, the ids varints,
    # a few times quicker than iterating the fields (a weekly LP's duals: a thousand rows)
    values = np.frombuffer(fields.get(2, b""), dtype="<f8")
    ids = fields.get(1, b"")
    if values.size == n and ids == wire.count_varints(n):  # every id in order (the duals)
        return values.astype(float)
    out = np.zeros(n)
    if ids or values.size:  # else none asked for (the reduced costs of column generation)
        out[wire.decode_varints(ids)] = values
    return out


def _dense_fields(sparse, n: int, dtype) -> np.ndarray:
    # fromiter reads a protobuf repeated field about twice as fast as asarray
    k = len(sparse.ids)
    out = np.zeros(n, dtype=dtype)
    out[np.fromiter(sparse.ids, dtype=np.int64, count=k)] = np.fromiter(
        sparse.values, dtype=dtype, count=k
    )
    return out


def _parse(result: result_pb2.SolveResultProto, n: int, m: int, want_duals: bool) -> SolverAnswer:
    term = result.termination
    reason = result_pb2.TerminationReasonProto.Name(term.reason).removeprefix("TERMINATION_REASON_")
    optimal = term.reason == result_pb2.TERMINATION_REASON_OPTIMAL
    seconds = result.solve_stats.solve_time.seconds + result.solve_stats.solve_time.nanos * 1e-9
    bound = term.objective_bounds.dual_bound
    values = None
    objective = np.inf
    reduced = duals = None
    for sol in result.solutions:
        if sol.HasField("primal_solution"):
            values = _dense(sol.primal_solution.variable_values, n)
            objective = sol.primal_solution.objective_value
            break
    if want_duals:
        for sol in result.solutions:
            if sol.HasField("dual_solution"):
                if sol.dual_solution.HasField("reduced_costs"):
                    reduced = _dense(sol.dual_solution.reduced_costs, n)
                duals = _dense(sol.dual_solution.dual_values, m)
                break
    return SolverAnswer(
        ok=values is not None,
        optimal=optimal,
        values=values,
        objective=objective,
        bound=bound,
        reduced_costs=reduced,
        duals=duals,
        seconds=seconds,
        reason=reason + (f" ({term.detail})" if term.detail else ""),
        infeasible=term.reason
        in (
            result_pb2.TERMINATION_REASON_INFEASIBLE,
            result_pb2.TERMINATION_REASON_INFEASIBLE_OR_UNBOUNDED,
        ),
    )


class IncrementalLP:
    """An LP kept alive in GLOP between solves, so columns can be added and the basis reused.

    Column generation adds a few hundred columns at a time; rebuilding and re-solving from scratch
    costs a full simplex run each time, while GLOP restarts from the last basis (primal feasible
    after new columns) and needs only the pivots the new columns bring.

    Columns can also be removed. That keeps the LP small, which matters because every solve after
    new columns recomputes the steepest-edge norms of all columns, and every pivot prices them all
    (a round of a few pivots over tens of thousands of columns takes most of a second). Only columns
    non-basic at zero are removed, so the last basis stays a basis; GLOP keeps it by column
    position, so after a removal it is handed back explicitly, by variable id.
    """

    def __init__(self, model: SparseModel) -> None:
        self._unread: tuple[int, int] | None = None
        self._solver = core_solver.new(
            parameters_pb2.SOLVER_TYPE_GLOP,
            _to_proto(model),
            parameters_pb2.SolverInitializerProto(),
        )
        self.n_rows = len(model.row_lb)
        self._ids = np.arange(len(model.cost))  # MathOpt id of each variable, in model order
        self._next_id = len(model.cost)
        # the last solve's basis, read from its answer only when asked (most small LPs never
        # remove a column): the answer's basis and the first id added after it, then the status
        # of each variable (model order) and of each row
        self._basis: Any = None
        self._basis_next_id = 0
        self._var_status: np.ndarray | None = None
        self._row_status: np.ndarray | None = None
        self._basis_by_id = False  # hand GLOP the basis by id at the next solve
        # columns and rows added since the last update: GLOP gets them in one update before
        # the next solve or other change (one update a round, not one per call)
        self._new_vars: list[tuple[np.ndarray, np.ndarray]] = []  # ids, costs
        self._new_rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # ids, bounds
        self._new_entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # row, id, value

    def leave_values_out(self, first: int, end: int) -> None:
        """The values of the variables at positions first..end-1 (base variables the caller
        never reads: the running totals, for column generation) are not copied out of GLOP
        from now on, and read as 0: that saves a fifth of a small LP's solve."""
        self._unread = (first, end)

    @property
    def n_vars(self) -> int:
        return len(self._ids)

    def _apply(self, update: model_update_pb2.ModelUpdateProto) -> None:
        self._flush()
        if not self._solver.update(update):
            raise RuntimeError("GLOP refused an incremental update")

    def _flush(self) -> None:
        """The columns and rows added since the last update, as one update (written in the wire
        format, `wire`: the same message as filling it field by field)."""
        if not (self._new_vars or self._new_rows):
            return
        payload = b""
        if self._new_vars:
            ids, cost = _joined(self._new_vars)
            k = ids.size
            id_field = wire.field(1, wire.encode_varints(ids))
            new_variables = (
                id_field
                + wire.field(2, bytes(8 * k))  # lower bounds 0.0
                + wire.field(3, _ONE * k)  # upper bounds 1.0
                + wire.field(4, bytes(k))  # not integer
            )
            coefficients = id_field + wire.packed_doubles(2, cost)
            payload += wire.message(5, new_variables) + wire.message(
                7, wire.message(3, coefficients)
            )
        if self._new_rows:
            ids, lower, upper = _joined(self._new_rows)
            payload += wire.message(
                6,
                wire.field(1, wire.encode_varints(ids))
                + wire.packed_doubles(2, lower)
                + wire.packed_doubles(3, upper),
            )
        if self._new_entries:
            payload += _matrix_entries(*_joined(self._new_entries))
        self._new_vars, self._new_rows, self._new_entries = [], [], []
        if not self._solver.update(model_update_pb2.ModelUpdateProto.FromString(payload)):
            raise RuntimeError("GLOP refused an incremental update")

    def add_columns(self, cost: np.ndarray, rows: np.ndarray, local: np.ndarray, vals: np.ndarray):
        """Append len(cost) columns in [0, 1]; entries give rows and 0-based new-column numbers."""
        k = len(cost)
        ids = self._next_id + np.arange(k)
        # copies: the caller may reuse its arrays before the update goes out
        self._new_vars.append((ids, np.array(cost, dtype=float)))
        self._new_entries.append((np.array(rows), self._next_id + local, np.array(vals, float)))
        self._ids = np.concatenate([self._ids, ids])
        self._next_id += k
        if self._var_status is not None:  # new columns enter non-basic at 0
            self._var_status = np.concatenate([self._var_status, np.full(k, AT_LOWER)])

    def add_rows(
        self,
        positions: np.ndarray,
        local: np.ndarray,
        upper: np.ndarray,
        vals: np.ndarray | None = None,
        lower: float = 0.0,
    ) -> None:
        """Append len(upper) rows ``lower <= sum of variables <= upper``, coefficients ``vals``
        (all 1 unless given); entries give variables (positions in model order) and 0-based
        new-row numbers. A new row's slack enters the basis, so the last basis stays dual
        feasible: re-solve with ``dual=True``."""
        k = len(upper)
        ids = self.n_rows + np.arange(k)
        # copies, as in `add_columns`: the update goes out at the next solve
        bounds = np.full(k, float(lower)), np.array(upper, dtype=float)
        self._new_rows.append((ids, *bounds))
        coefficients = np.ones(len(local)) if vals is None else np.array(vals, dtype=float)
        self._new_entries.append((self.n_rows + local, self._ids[positions], coefficients))
        self._read_basis()
        self.n_rows += k
        if self._row_status is not None:
            self._row_status = np.concatenate([self._row_status, np.full(k, BASIC)])
            self._basis_by_id = True

    def _read_basis(self) -> None:
        if self._var_status is not None or self._basis is None:
            return
        by_id = _dense_status(self._basis.variable_status, self._next_id)
        by_id[self._basis_next_id :] = AT_LOWER  # columns added since: non-basic at 0
        self._var_status = by_id[self._ids]
        self._row_status = _dense_status(self._basis.constraint_status, self.n_rows)

    def set_basis(self, var_status: np.ndarray, row_status: np.ndarray) -> None:
        """Start the next solve from this basis (statuses per variable in model order, per row)."""
        self._var_status = np.asarray(var_status, dtype=np.int64)
        self._row_status = np.asarray(row_status, dtype=np.int64)
        self._basis_by_id = True

    def plan_row_status(self) -> np.ndarray:
        """Row statuses of a plan's basis: every row fixed (with the plan's columns or unplaced
        flags and every running total basic: a basis, `ColumnGeneration._start_from`)."""
        return np.full(self.n_rows, FIXED_VALUE)

    def basis(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The last solve's basis: statuses per variable (model order) and per row, or None."""
        self._read_basis()
        if self._var_status is None or self._row_status is None:
            return None
        return self._var_status.copy(), self._row_status.copy()

    def nonbasic_at_zero(self) -> np.ndarray:
        """Per variable (model order): non-basic at its lower bound in the last solve's basis."""
        self._read_basis()
        if self._var_status is None:
            return np.zeros(self.n_vars, dtype=bool)
        return self._var_status == AT_LOWER

    def remove(self, positions: np.ndarray) -> None:
        """Delete variables (positions in model order) that `nonbasic_at_zero` reports."""
        if positions.size == 0:
            return
        self._read_basis()
        assert self._var_status is not None and np.all(self._var_status[positions] == AT_LOWER)
        update = model_update_pb2.ModelUpdateProto()
        update.deleted_variable_ids.extend(self._ids[positions].tolist())
        self._apply(update)
        keep = np.ones(self.n_vars, dtype=bool)
        keep[positions] = False
        self._ids = self._ids[keep]
        self._var_status = self._var_status[keep]
        self._basis_by_id = True

    def set_bounds(self, positions: np.ndarray, *, lower: float | None = None, upper=None) -> None:
        """Change the bounds of variables (positions in model order); the basis is kept."""
        order = np.argsort(self._ids[positions])
        ids = self._ids[positions][order].tolist()
        update = model_update_pb2.ModelUpdateProto()
        for value, field in ((lower, "lower_bounds"), (upper, "upper_bounds")):
            if value is not None:
                getattr(update.variable_updates, field).ids.extend(ids)
                getattr(update.variable_updates, field).values.extend([float(value)] * len(ids))
        self._apply(update)

    def solve(self, time_limit: float, *, dual: bool = False) -> SolverAnswer:
        """Values (model order), duals and objective; reduced costs are not copied out.

        Primal simplex suits new columns (the last basis stays primal feasible); ``dual`` suits
        changed bounds (the last optimal basis stays dual feasible).
        """
        params = _params_with_limit(time_limit)
        params.lp_algorithm = (
            parameters_pb2.LP_ALGORITHM_DUAL_SIMPLEX
            if dual
            else parameters_pb2.LP_ALGORITHM_PRIMAL_SIMPLEX
        )
        # GLOP reuses the previous basis only when it does not presolve
        params.presolve = parameters_pb2.EMPHASIS_OFF
        # column generation prices columns from the duals itself: no reduced costs to copy out
        # written in the wire format (`wire`): the same message as filling it field by field
        by_ids = _FILTER_BY_IDS
        payload = wire.message(3, by_ids)  # reduced_costs_filter
        if self._unread is not None:
            first, end = self._unread
            kept = np.concatenate([np.arange(first), self._ids[end:]])
            payload += wire.message(1, by_ids + wire.field(3, wire.encode_varints(kept)))
        if self._basis_by_id and self._var_status is not None and self._row_status is not None:
            # GLOP's own warm start maps the old basis by column position, which a deletion
            # shifts: give it the basis by id (checked in GLOP's log: it factorises this basis
            # and starts an incremental solve from it)
            # statuses are enum values below 0x80: a byte each
            rows = wire.field(1, wire.count_varints(self.n_rows)) + wire.field(
                2, self._row_status.astype(np.uint8).tobytes()
            )
            variables = wire.field(1, wire.encode_varints(self._ids)) + wire.field(
                2, self._var_status.astype(np.uint8).tobytes()
            )
            payload += wire.message(4, wire.message(1, rows) + wire.message(2, variables))
        model_params = model_parameters_pb2.ModelSolveParametersProto.FromString(payload)
        self._basis_by_id = False
        self._flush()
        result = _guarded(
            params,
            lambda interrupter: self._solver.solve(
                params,
                model_params,
                None,
                callback_pb2.CallbackRegistrationProto(),
                None,
                interrupter,
            ),
        )
        self._var_status = self._row_status = self._basis = None
        if isinstance(result, SolverAnswer):
            return result
        answer = _parse(result, self._next_id, self.n_rows, want_duals=True)
        if answer.values is not None:  # ids have gaps where columns were removed
            answer.values = answer.values[self._ids]
        for sol in result.solutions:
            if sol.HasField("basis"):
                self._basis, self._basis_next_id = sol.basis, self._next_id
                break
        return answer


_ONE = np.float64(1.0).astype("<f8").tobytes()


def _joined(parts: list) -> tuple[np.ndarray, ...]:
    """Each array of a list of tuples of arrays, joined (as it is when there is one tuple)."""
    if len(parts) == 1:
        return tuple(parts[0])
    return tuple(np.concatenate(x) for x in zip(*parts, strict=True))


def _matrix_entries(rows: np.ndarray, ids: np.ndarray, vals: np.ndarray) -> bytes:
    """Matrix entries as a model update's field (wire format), row-major as MathOpt requires;
    nothing without entries."""
    if len(rows) == 0:
        return b""
    order = np.lexsort((ids, rows))
    return wire.message(
        8,
        wire.field(1, wire.encode_varints(rows[order]))
        + wire.field(2, wire.encode_varints(ids[order]))
        + wire.packed_doubles(3, vals[order]),
    )


_FILTER_BY_IDS = wire.varint(2 << 3) + wire.varint(1)  # a SparseVectorFilterProto's field 2: true

AT_LOWER = solution_pb2.BASIS_STATUS_AT_LOWER_BOUND
BASIC = solution_pb2.BASIS_STATUS_BASIC
FIXED_VALUE = solution_pb2.BASIS_STATUS_FIXED_VALUE


def _dense_status(sparse, n: int) -> np.ndarray:
    """A basis's statuses (ids, values) per variable or row: 0, BASIS_STATUS_UNSPECIFIED, where
    an id is absent; read from the wire format as `_dense` (statuses are varints too)."""
    fields = wire.length_delimited(sparse.SerializeToString())
    if fields is None or not fields.keys() <= {1, 2}:
        return _dense_fields(sparse, n, np.int64)
    ids, values = fields.get(1, b""), wire.decode_varints(fields.get(2, b""))
    if values.size == n and ids == wire.count_varints(n):  # every id in order (no removals)
        return values
    out = np.zeros(n, dtype=np.int64)
    out[wire.decode_varints(ids)] = values
    return out
