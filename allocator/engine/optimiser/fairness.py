"""The fairness bound (`Policy.fair_wait_days`, N): nobody who asked later starts in a unit that a
household waiting N days or more could have taken that day.

An *overtaking* of a plan is (h, g, p, t): g starts in pool p on day t, g asked later than h
(``need_day[g] > need_day[h]``), h has waited N days by t (``need_day[h] + N <= t``) and has
not started by t, neither is pinned, and (h, p, t) is a column of the instance (`build_columns`:
h may take the pool and its whole stay from t fits; the issue's "unless that is infeasible").
A plan honours the bound when it has none. As rows of the MIP over columns, one per pair:

    x[g,p,t] - sum over h's columns c with start_c <= t of x_c <= 0

(g may start in p on day t only if h has started by then). `enforce` adds them lazily: solve,
find the plan's overtakings, add their rows, solve again, until the plan has none. Over every
column of the instance (at most ``EngineParams.fair_all_columns``) a proven optimum of that MIP
is the optimum under the bound; over more, the MIP covers the LP's columns and those of the
plan's, greedy's and the best compliant plan's, and its plans are compliant but not proven best.

Unplacing the overtakers of a plan, again until none is left (`repair`), always gives a plan
that honours the bound: leaving a household out never breaks a rule. Those left out are then
placed where that overtakes nobody (`refill`); `sweep` builds a compliant plan day by day towards
the unbounded one. The best of these, from the unbounded plan and greedy's, is the incumbent the
MIPs must beat, and the answer when they find nothing better in time. Over every column each MIP
first solves its LP, whose reduced costs leave out the columns of no plan below the cutoff.
docs/engine.md, "The fairness bound", states the rows and what is proven.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np

from allocator.engine.columns import Columns, fitting, objective
from allocator.engine.instance import Instance
from allocator.engine.optimiser import backend
from allocator.engine.optimiser.fair_plans import refill, sweep
from allocator.engine.optimiser.incumbents import Plan
from allocator.engine.optimiser.model import ColumnIndex, build_model, layout_of, plan_from
from allocator.engine.optimiser.outcome import SolveOutcome, cutoff, proven
from allocator.engine.run import RunSettings

ROW_FIELDS = ("waiting", "later", "pool", "day")  # the columns of `FairnessRecord.rows`
PAIRS_PER_BLOCK = 2_000_000  # (waiting, placed) pairs compared at once: a few MB of booleans


@dataclass
class FairnessRecord:
    """What the fairness bound did to one solve (`SolveOutcome.fairness`).

    ``rows`` (k x 4 int64, `ROW_FIELDS`): every overtaking found, in the plan before the bound,
    in the MIPs' plans and in the plans repaired, i.e. the rows the bound added, sorted. The plan
    before the bound is the unbounded search's (``before_pool``, ``before_start``, -1 when not
    placed). ``binding``: the final plan differs from it.
    """

    days: int
    rows: np.ndarray
    before_pool: np.ndarray
    before_start: np.ndarray
    binding: bool = False
    # the MIPs covered every column: a proven optimum of theirs is the optimum under the bound
    all_columns: bool = True
    rounds: int = 0  # MIPs solved
    model_rows: int = 0  # rows in the last MIP (`pair_rows` of ``rows``)
    source: str = ""  # where the final plan came from (``unbounded`` when nothing changed)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def note(self) -> str:
        """One line for the outcome's detail."""
        state = "binding" if self.binding else "not binding"
        how = f" ({'; '.join(self.notes)})" if self.notes else ""
        return f"fairness bound: {len(self.rows)} rows, {state}{how}"


def no_rows() -> np.ndarray:
    return np.zeros((0, 4), dtype=np.int64)


class ColumnLookup:
    """Whether (household, pool, start) is a column of the instance's full column set, and where.

    From the columns (`build_columns(inst)`, all of them) by their sorted `column_keys`; or,
    when the caller has not built them (a model too large to build), by the same tests as
    `build_columns`, household by household: the pool fits it, a unit is free on the day, and
    the stay from that day has a night and departs by the pool's departure limit.
    """

    def __init__(self, inst: Instance, cols: Columns | None = None) -> None:
        self.inst, self.cols = inst, cols
        if cols is not None:
            self._index = ColumnIndex(inst, cols)
        else:
            P = len(inst.pools)
            self._fit = fitting(inst, np.arange(P))
            H = inst.horizon
            self._free = np.array([q.free > 0 for q in inst.pools], dtype=bool).reshape(P, H)
            self._dep = np.array([q.departure_limit for q in inst.pools], np.int64).reshape(P, H)

    def index(self, household: np.ndarray, pool: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Each triple's column index in ``cols``, -1 where it is no column (needs ``cols``)."""
        assert self.cols is not None
        return self._index.index(household, pool, start)

    def exists(self, household: np.ndarray, pool: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Per triple, whether it is a column."""
        if self.cols is not None:
            return self.index(household, pool, start) >= 0
        inst = self.inst
        ok = self._fit[household, pool] & (start >= inst.release[household])
        ok &= (start >= 0) & (start < inst.horizon)
        day = np.clip(start, 0, max(inst.horizon - 1, 0))
        ok &= self._free[pool, day]
        nights = inst.stay_length(household, day)
        return ok & (nights >= 1) & (day + nights <= self._dep[pool, day])


def overtakings(
    inst: Instance,
    cols: Columns | None,
    pool: np.ndarray,
    start: np.ndarray,
    *,
    days: int | None = None,
    lookup: ColumnLookup | None = None,
) -> np.ndarray:
    """The plan's overtakings (k x 4 int64: waiting, later, pool, day), sorted; none when the
    policy has no bound.

    ``cols``: every column of the instance (`build_columns`), or None to test each triple as
    `build_columns` would (`ColumnLookup`); ``days``: the bound, the policy's when None;
    ``lookup``: a `ColumnLookup` the caller keeps between calls (then ``cols`` is not read).
    """
    N = inst.policy.fair_wait_days if days is None else days
    if N is None:
        return no_rows()
    pool, start = np.asarray(pool, dtype=np.int64), np.asarray(start, dtype=np.int64)
    free = inst.pinned_pool < 0
    g = np.flatnonzero((pool >= 0) & free)
    hs = np.flatnonzero(free)
    if not (g.size and hs.size):
        return no_rows()
    lookup = lookup or ColumnLookup(inst, cols)
    need = inst.need_day
    # the day each household has started by; never for one not placed
    began = np.where(pool >= 0, start, np.iinfo(np.int64).max)
    g_need, g_start = need[g], start[g]
    parts = []
    block = max(1, PAIRS_PER_BLOCK // g.size)
    for a in range(0, hs.size, block):
        h = hs[a : a + block]
        m = (
            (g_need[None, :] > need[h, None])  # asked later
            & (g_start[None, :] >= need[h, None] + N)  # h has waited N days by then
            & (began[h, None] > g_start[None, :])  # and has not started by then
        )
        i, j = np.nonzero(m)
        if not i.size:
            continue
        w, later = h[i], g[j]
        fits = lookup.exists(w, pool[later], start[later])
        parts.append(np.stack([w[fits], later[fits], pool[later][fits], start[later][fits]], 1))
    if not parts:
        return no_rows()
    rows = np.concatenate(parts).astype(np.int64)
    return rows[np.lexsort(rows.T[::-1])]


def repair(
    inst: Instance,
    cols: Columns | None,
    pool: np.ndarray,
    start: np.ndarray,
    *,
    lookup: ColumnLookup | None = None,
) -> Plan:
    """The plan with its overtakers left out, until no overtaking is left: it honours the bound.

    Every overtaker of a round must go (leaving a household out only makes it wait), so each
    round leaves out all of them at once; one left out may be overtaken in turn, hence the
    rounds. ``cols`` and ``lookup`` as for `overtakings`."""
    return _repaired(inst, lookup or ColumnLookup(inst, cols), (pool, start))[0]


def _repaired(inst: Instance, lookup: ColumnLookup, plan: Plan) -> tuple[Plan, np.ndarray]:
    """`repair`, and every overtaking it found."""
    pool, start = plan[0].copy(), plan[1].copy()
    found = []
    while True:
        rows = overtakings(inst, None, pool, start, lookup=lookup)
        if not rows.size:
            break
        found.append(rows)
        out = np.unique(rows[:, 1])
        pool[out], start[out] = -1, -1
    return (pool, start), (np.concatenate(found) if found else no_rows())


def _merged(*parts: np.ndarray) -> np.ndarray:
    rows = np.concatenate(parts)
    return np.unique(rows, axis=0) if rows.size else no_rows()


def _expanded(household: np.ndarray, of: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For each entry of ``of`` (households), the indices of ``household`` that equal it: pairs
    (position in ``of``, index), without a loop over households."""
    by_house = np.argsort(household, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(household, minlength=n))])
    lo, count = ptr[of], ptr[of + 1] - ptr[of]
    which = np.repeat(np.arange(of.size), count)
    within = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    return which, by_house[np.repeat(lo, count) + within]


def pair_rows(
    inst: Instance, sub: Columns, lookup: ColumnLookup, rows: np.ndarray, days: int
) -> np.ndarray:
    """Every row of the pairs (waiting, later) in ``rows``: one per column (later, p, t) in
    ``sub`` that would overtake the waiting household if it had not started by t. A plan that
    moves the later household to another slot the waiting one could take breaks one of them,
    so they go into the MIP together rather than one a round."""
    pairs = np.unique(rows[:, :2], axis=0)
    if not (pairs.size and len(sub)):
        return no_rows()
    which, col = _expanded(sub.household, pairs[:, 1], inst.n_households)
    h, p, t = pairs[which, 0], sub.pool[col], sub.start[col]
    ok = t >= inst.need_day[h] + days
    ok[ok] = lookup.exists(h[ok], p[ok], t[ok])
    return np.stack([h, pairs[which, 1], p, t], 1)[ok].astype(np.int64)


def bounded_model(
    inst: Instance, sub: Columns, rows: np.ndarray, index_of: ColumnLookup | None = None
) -> backend.SparseModel:
    """`build_model` over ``sub`` (integer), with the bound's rows for the overtakings ``rows``.

    Per waiting household h of a row, variables S[h,t] = its columns in ``sub`` starting by day
    t, written as a running total (S[h,t] = S[h,t-1] + its columns starting on t), so that a row
    has two entries where the sum would have one per column of h. The rows of one (h, g, t) are
    added up over the pools, ``sum_p x[g,p,t] - S[h,t] <= 0``: g takes one column at most, so
    that is the same for plans, and tighter for the LP. A row whose column (g, p, t) is not in
    ``sub`` adds nothing. ``index_of`` finds columns in ``sub`` (one is made when None).
    """
    model = build_model(inst, sub, integer=True)
    index_of = index_of or ColumnLookup(inst, sub)
    H = inst.horizon
    g_col = index_of.index(rows[:, 1], rows[:, 2], rows[:, 3])
    rows, g_col = rows[g_col >= 0], g_col[g_col >= 0]
    if not rows.size:
        return model
    n0 = len(model.cost) - len(sub)  # the first column's variable
    v0, r0 = len(model.cost), len(model.row_lb)  # the first S variable and chain row
    waiting = np.unique(rows[:, 0])
    W = waiting.size
    # the chain: S[w,t] - S[w,t-1] - (w's columns starting on t) = 0
    s_var = v0 + np.arange(W * H)
    prev = np.arange(W * H) % H > 0
    mine = np.flatnonzero(np.isin(sub.household, waiting))
    w_col = np.searchsorted(waiting, sub.household[mine])
    chain_r = [r0 + np.arange(W * H), r0 + np.flatnonzero(prev), r0 + w_col * H + sub.start[mine]]
    chain_v = [s_var, s_var[prev] - 1, n0 + mine]
    chain_x = [np.ones(W * H), -np.ones(int(prev.sum())), -np.ones(mine.size)]
    # the rows, one per (h, g, t): +1 on each x[g,p,t], -1 on S[h,t]
    triples, row_of = np.unique(rows[:, [0, 1, 3]], axis=0, return_inverse=True)
    row_of = row_of.ravel()
    k, f0 = len(triples), r0 + W * H
    t_w = np.searchsorted(waiting, triples[:, 0])
    fair_r = [f0 + row_of, f0 + np.arange(k)]
    fair_v = [n0 + g_col, v0 + t_w * H + triples[:, 2]]
    fair_x = [np.ones(row_of.size), -np.ones(k)]
    model.cost = np.concatenate([model.cost, np.zeros(W * H)])
    model.var_lb = np.concatenate([model.var_lb, np.zeros(W * H)])
    model.var_ub = np.concatenate([model.var_ub, np.ones(W * H)])
    model.integer = np.concatenate([model.integer, np.zeros(W * H, dtype=bool)])
    model.rows = np.concatenate([model.rows, *chain_r, *fair_r]).astype(np.int64)
    model.cols = np.concatenate([model.cols, *chain_v, *fair_v]).astype(np.int64)
    model.vals = np.concatenate([model.vals, *chain_x, *fair_x])
    model.row_lb = np.concatenate([model.row_lb, np.zeros(W * H), np.full(k, -np.inf)])
    model.row_ub = np.concatenate([model.row_ub, np.zeros(W * H + k)])
    return model


def plan_of(inst: Instance, sub: Columns, values: np.ndarray) -> Plan:
    """The plan in the values of a `bounded_model`'s variables (its columns follow the base
    variables, the running totals follow them)."""
    n0 = layout_of(inst).n_base_vars
    return plan_from(sub, values[n0 : n0 + len(sub)], inst.n_households)


def _fallbacks(
    inst: Instance,
    lookup: ColumnLookup,
    best: _Best,
    rows: np.ndarray,
    plans: tuple[tuple[str, Plan], ...],
    deadline: float,
) -> np.ndarray:
    """Offer each plan repaired, then refilled (`repair`, `refill`), and a sweep towards it,
    refilled (`sweep`), to ``best``; return ``rows`` with the overtakings the repairs found.
    Refills and sweeps stop at the ``deadline`` with what they have placed (still compliant);
    the repairs always run: they are the plans that honour the bound for certain."""
    for source, plan in plans:
        repaired, found = _repaired(inst, lookup, plan)
        best.consider(f"repaired {source}", repaired)
        best.consider(f"refilled {source}", refill(inst, repaired, lookup, deadline))
        swept = sweep(inst, plan, lookup, deadline)
        best.consider(f"swept {source}", refill(inst, swept, lookup, deadline))
        rows = _merged(rows, found)
    return rows


class _Best:
    """The best plan that honours the bound, among those offered."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.plan: Plan | None = None
        self.objective = np.inf
        self.source = ""

    def consider(self, source: str, plan: Plan) -> None:
        obj = objective(self.inst, *plan)
        if obj < self.objective - 1e-9:
            self.plan, self.objective, self.source = (plan[0].copy(), plan[1].copy()), obj, source


def enforce(
    inst: Instance,
    cols: Columns,
    outcome: SolveOutcome,
    greedy_plan: Plan,
    run: RunSettings,
    lp_columns: np.ndarray | None = None,
) -> FairnessRecord:
    """Make the outcome's plan honour the bound: the best compliant plan found by the deadline.

    Each MIP has the rows of every pair (waiting, later) found so far (`pair_rows`): a row per
    slot of the later household's that the waiting one could take.

    ``cols`` are every column of the instance; ``lp_columns`` (indices into them) the LP's, for
    the MIPs' columns when there are more than ``fair_all_columns``. The outcome's plan, source,
    objective, bound and detail change in place and its ``fairness`` is set; a plan with no
    overtaking is left as it is. The bound stays valid (any plan honouring the bound is a plan of
    the unbounded problem); over every column the MIP's own bound may raise it.
    """
    began = time.perf_counter()
    lookup = ColumnLookup(inst, cols)
    record, best = _begin(inst, lookup, outcome, greedy_plan, run.deadline)
    if best is None:
        record.seconds = time.perf_counter() - began
        return record
    days, rows = record.days, record.rows
    before: Plan = (record.before_pool, record.before_start)
    params = run.engine
    record.all_columns = len(cols) <= params.fair_all_columns
    assert best.plan is not None  # the repaired plans are always there
    plans = (before, greedy_plan, best.plan)
    keep = _mip_columns(inst, cols, lookup, plans, lp_columns, record)
    mip_bound = -np.inf
    while record.rounds < params.fair_rounds:
        if (run.stop is not None and run.stop.is_set()) or time.perf_counter() >= run.deadline:
            record.notes.append("out of time" if record.rounds else "no time for a MIP")
            break
        sub = cols.take(np.flatnonzero(keep))
        model_rows = pair_rows(inst, sub, lookup, rows, days)
        record.model_rows = len(model_rows)
        below = cutoff(best.objective, run.relative_gap)
        model = bounded_model(inst, sub, model_rows)
        if _out_of_time(run):  # building a large model can take the time that was left
            record.notes.append("out of time" if record.rounds else "no time for a MIP")
            break
        if record.all_columns:  # the LP's bound, and its reduced costs to fix columns by
            sub, model, lp_bound = _fixed_by_lp(inst, sub, model, model_rows, below, run)
            mip_bound = max(mip_bound, lp_bound)
            if lp_bound >= below:
                record.notes.append(f"LP {record.rounds + 1}: no plan below the cutoff")
                break
            if _out_of_time(run):
                record.notes.append("out of time" if record.rounds else "no time for a MIP")
                break
        mip = backend.solve(
            model,
            time_limit=run.deadline - time.perf_counter(),
            threads=run.workers,
            seed=run.seed,
            relative_gap=run.relative_gap,
            cutoff=below,
        )
        record.rounds += 1
        outcome.mip_seconds += mip.seconds
        if record.all_columns and np.isfinite(mip.bound):
            # each round's rows are the last's and more; a column fixed by the LP is in no
            # plan below the cutoff, which bounds the MIP's bound
            mip_bound = max(mip_bound, mip.bound)
        if not (mip.ok and mip.values is not None):
            record.notes.append(f"MIP {record.rounds}: {mip.reason}")
            break  # nothing below the best compliant plan, or out of time
        plan = plan_of(inst, sub, mip.values)
        found = overtakings(inst, cols, *plan, lookup=lookup)
        if not found.size:
            best.consider("mip", plan)
            break  # within the gap of the bound of a relaxation of the bounded problem
        rows = _fallbacks(inst, lookup, best, _merged(rows, found), (("mip", plan),), run.deadline)
        if not record.all_columns:
            keep = _with_plan(keep, lookup, best.plan)  # its refilled plan's columns too
    else:
        record.notes.append(f"{params.fair_rounds} rounds")
    if record.all_columns:
        outcome.best_bound = max(outcome.best_bound, min(mip_bound, best.objective))
    record.rows = rows
    _take(outcome, record, best)
    record.seconds = time.perf_counter() - began
    return record


def _fixed_by_lp(
    inst: Instance,
    sub: Columns,
    model: backend.SparseModel,
    model_rows: np.ndarray,
    below: float,
    run: RunSettings,
) -> tuple[Columns, backend.SparseModel, float]:
    """The MIP's columns and model without the columns that no plan below the cutoff uses, by
    the reduced costs of its LP relaxation (a plan costs at least the LP's value plus the
    reduced cost of each column it uses), and the LP's value, a bound (-inf if it failed)."""
    relaxed = dataclasses.replace(model, integer=np.zeros(model.integer.size, dtype=bool))
    lp = backend.solve(
        relaxed,
        time_limit=run.deadline - time.perf_counter(),
        threads=run.workers,
        seed=run.seed,
        want_duals=True,
    )
    if not (lp.optimal and lp.reduced_costs is not None):
        return sub, model, -np.inf
    n0 = layout_of(inst).n_base_vars
    rc = lp.reduced_costs[n0 : n0 + len(sub)]
    wanted = rc < below - lp.objective + 1e-9 * max(1.0, abs(below))
    if wanted.all():
        return sub, model, lp.objective
    sub = sub.take(np.flatnonzero(wanted))
    return sub, bounded_model(inst, sub, model_rows), lp.objective


def _mip_columns(
    inst: Instance,
    cols: Columns,
    lookup: ColumnLookup,
    plans: tuple[Plan | None, ...],
    lp_columns: np.ndarray | None,
    record: FairnessRecord,
) -> np.ndarray:
    """Per column, whether the bound's MIPs cover it: all, or (over ``fair_all_columns``) the
    LP's and the plans' (the unbounded one, greedy's and the best compliant one)."""
    if record.all_columns:
        return np.ones(len(cols), dtype=bool)
    keep = np.zeros(len(cols), dtype=bool)
    if lp_columns is not None:
        keep[lp_columns] = True
    for plan in plans:
        keep = _with_plan(keep, lookup, plan)
    record.notes.append(f"MIPs over {int(keep.sum())}+ of {len(cols)} columns")
    return keep


def _with_plan(keep: np.ndarray, lookup: ColumnLookup, plan: Plan | None) -> np.ndarray:
    """``keep`` with the plan's columns set."""
    if plan is not None:
        pool, start = plan
        placed = np.flatnonzero(pool >= 0)
        at = lookup.index(placed, pool[placed], start[placed])
        keep[at[at >= 0]] = True
    return keep


def _out_of_time(run: RunSettings) -> bool:
    """The deadline has passed or the run was stopped: no solve may start."""
    stopped = run.stop is not None and run.stop.is_set()
    return stopped or time.perf_counter() >= run.deadline


def _same(a: Plan, b: Plan) -> bool:
    return bool(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]))


def honour(
    inst: Instance, outcome: SolveOutcome, greedy_plan: Plan, deadline: float
) -> FairnessRecord:
    """The bound on a plan that no fairness stage saw (a model too large to build: heuristic
    plans or slices solved one by one): the best of the outcome's plan and greedy's, each
    repaired (`repair`), refilled and swept until the ``deadline``, without a MIP; the
    outcome's plan is left as it is when it has no overtaking."""
    record, best = _begin(inst, ColumnLookup(inst), outcome, greedy_plan, deadline)
    if best is not None:
        record.all_columns = False
        record.notes.append("repaired without a MIP")
        _take(outcome, record, best)
    return record


def _begin(
    inst: Instance, lookup: ColumnLookup, outcome: SolveOutcome, greedy_plan: Plan, deadline: float
) -> tuple[FairnessRecord, _Best | None]:
    """The outcome's record (its plan is the one before the bound) and, when that plan
    overtakes, the best compliant plan without a MIP: the outcome's and greedy's repaired,
    refilled and swept (`_fallbacks`); the record's rows are every overtaking found."""
    days = inst.policy.fair_wait_days
    assert days is not None, "the fairness bound's stage needs a policy with fair_wait_days"
    before: Plan = (outcome.pool.copy(), outcome.start.copy())
    rows = overtakings(inst, None, *before, lookup=lookup)
    record = FairnessRecord(days, rows, before[0], before[1], source="unbounded")
    outcome.fairness = record
    if not rows.size:
        return record, None
    best = _Best(inst)
    plans = ((outcome.source, before), ("greedy", greedy_plan))
    record.rows = _fallbacks(inst, lookup, best, rows, plans, deadline)
    return record, best


def _take(outcome: SolveOutcome, record: FairnessRecord, best: _Best) -> None:
    """The best compliant plan becomes the outcome's (its bound set already)."""
    assert best.plan is not None
    outcome.pool, outcome.start = best.plan
    outcome.objective, outcome.source = best.objective, best.source
    outcome.proven_optimal = proven(outcome)
    record.source = best.source
    record.binding = not _same((record.before_pool, record.before_start), best.plan)
