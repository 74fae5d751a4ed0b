"""What the benchmark measures, one function per method, each run in a fresh process.

Every task regenerates its instance from (households, units, seed), so nothing large crosses a
process boundary, and reports a flat dict; `run_isolated` adds the process's wall time and peak
resident memory (ru_maxrss), neither polluted by another method.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import resource
import time
import traceback

import numpy as np

START = dt.date(2026, 12, 7)
# HiGHS on the whole LP: 1000x500 (1.7M columns) solves; 5000x2500 (8.7M) took 7.9 GB and did
# not finish in 300 s
HIGHS_MAX_COLUMNS = 4_000_000
HORIZON_WEEKS = 26
# the share of households given an exit date instead of a stay length (`generate`'s
# exit_dated_share): set by bench_plan's --exit-dated-share, read from the environment because
# every task runs in a freshly spawned process
EXIT_DATED_SHARE_ENV = "BENCH_EXIT_DATED_SHARE"


def exit_dated_share() -> float:
    return float(os.environ.get(EXIT_DATED_SHARE_ENV, "0"))


def tables(n_households: int, n_units: int, seed: int):
    from allocator.examples import generate

    return generate(
        n_households,
        n_units,
        seed=seed,
        start=START,
        horizon_weeks=HORIZON_WEEKS,
        exit_dated_share=exit_dated_share(),
    )


def instance(n_households: int, n_units: int, seed: int):
    from allocator.engine.instance import build_instance
    from allocator.policy import Policy
    from allocator.tables import validate_tables

    households, units, stays = tables(n_households, n_units, seed)
    policy = Policy(horizon_weeks=HORIZON_WEEKS)
    return build_instance(validate_tables(households, units, stays), START, policy)


def _plan(n_households: int, n_units: int, seed: int, **kwargs) -> dict:
    import allocator

    households, units, stays = tables(n_households, n_units, seed)
    plan = allocator.plan(
        households,
        units,
        stays,
        start=START,
        policy=allocator.Policy(horizon_weeks=HORIZON_WEEKS),
        **kwargs,
    )
    return {
        "seconds": plan.solve_seconds,
        "objective": plan.objective,
        "best_bound": plan.best_bound,
        "gap": plan.gap,
        "status": plan.status.value,
        "hotel_person_nights": plan.hotel_person_nights,
        "placed": int(len(plan.placed)),
        **{
            k: plan.details.get(k) for k in ("plan_source", "lp_bound", "lp_seconds", "mip_seconds")
        },
    }


def greedy(n_households: int, n_units: int, seed: int) -> dict:
    return _plan(n_households, n_units, seed, method="greedy")


def solver(
    n_households: int,
    n_units: int,
    seed: int,
    time_limit: float,
    relative_gap: float = 1e-4,
    engine=None,
) -> dict:
    """The solver's plan; ``engine``, an `allocator.EngineParams`, sets the optimiser (its
    defaults when None, which older versions without the argument also run)."""
    settings = {} if engine is None else {"engine": engine}
    return _plan(
        n_households,
        n_units,
        seed,
        method="solver",
        time_limit=time_limit,
        relative_gap=relative_gap,
        **settings,
    )


def lagrangian_bound(m, a, y: np.ndarray) -> float:
    """A lower bound on min c.x over the model from any row duals y, whatever their quality.

    c.x = (c - A'y).x + y'Ax, and each term is bounded below over the row and variable bounds.
    It equals the LP value at an optimal basis and stays valid when the solver stops early, so the
    reported bound does not rest on the solver's tolerances.
    """
    rc = m.cost - a.T @ y

    def least(coef: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
        with np.errstate(invalid="ignore"):  # inf * 0 where the coefficient is zero
            terms = np.where(coef > 0, coef * lo, np.where(coef < 0, coef * hi, 0.0))
        return float(terms.sum())

    return least(y, m.row_lb, m.row_ub) + least(rc, m.var_lb, m.var_ub.astype(float))


def full_lp(
    n_households: int,
    n_units: int,
    seed: int,
    time_limit: float,
    algorithm: str = "simplex",
    method: str = "auto",
) -> dict:
    """LP relaxation of the engine's whole day-level model: every column, solved by HiGHS.

    Above HIGHS_MAX_COLUMNS columns (or with method "colgen") by the engine's column generation
    instead, run to its end: the same LP (tests/engine/test_lp.py compares the two), in far less
    memory.
    """
    import highspy
    import scipy.sparse as sp

    from allocator.engine.columns import build_columns
    from allocator.engine.optimiser.model import build_model
    from allocator.engine.optimiser.solve import lp_relaxation

    t0 = time.perf_counter()
    inst = instance(n_households, n_units, seed)
    cols = build_columns(inst)
    if method == "colgen" or (method == "auto" and len(cols) > HIGHS_MAX_COLUMNS):
        built = time.perf_counter() - t0
        t1 = time.perf_counter()
        value, bound, converged, rounds = lp_relaxation(inst, t1 + time_limit, cols)
        return {
            "value": value if converged else None,
            "bound": bound,
            "status": f"column generation: {'optimal' if converged else 'time limit'}"
            f" after {rounds} rounds",
            "seconds": time.perf_counter() - t1,
            "build_seconds": built,
            "columns": len(cols),
        }
    m = build_model(inst, cols, integer=False)
    n, r = len(m.cost), len(m.row_lb)
    a = sp.csc_matrix((m.vals, (m.rows, m.cols)), shape=(r, n))
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("threads", os.cpu_count() or 1)
    h.setOptionValue("solver", algorithm)
    h.passModel(
        n,
        r,
        a.nnz,
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        m.cost,
        m.var_lb,
        m.var_ub.astype(float),
        m.row_lb,
        m.row_ub,
        a.indptr[:-1].astype(np.int32),
        a.indices.astype(np.int32),
        a.data,
        np.zeros(n, dtype=np.int32),  # all continuous
    )
    built = time.perf_counter() - t0
    t1 = time.perf_counter()
    h.run()
    solve_seconds = time.perf_counter() - t1
    optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    solution = h.getSolution()
    bound = None
    if solution.dual_valid:
        bound = lagrangian_bound(m, a, np.asarray(solution.row_dual))
    return {
        "value": float(h.getInfo().objective_function_value) if optimal else None,
        "bound": bound,
        "status": h.modelStatusToString(h.getModelStatus()),
        "seconds": solve_seconds,
        "build_seconds": built,
        "columns": len(cols),
        "nnz": a.nnz,
    }


def peer(
    n_households: int, n_units: int, seed: int, time_limit: float, max_nnz: float, rel_gap: float
) -> dict:
    """The per-unit MIP of `peer_mip`, unless it is too big to build."""
    import peer_mip

    t0 = time.perf_counter()
    inst = instance(n_households, n_units, seed)
    if inst.exit_dated.any():  # peer_mip's model gives every stay one length, whatever its start
        return {"status": "skipped (exit dates)"}
    size = peer_mip.size_of(inst)
    out = {"binaries": size.binaries, "nnz": size.nnz}
    if peer_mip.has_caps(inst):
        return {**out, "status": "skipped (caps)"}
    if size.nnz > max_nnz:
        return {**out, "status": f"skipped ({size.binaries} binaries)"}
    model = peer_mip.build(inst)
    out["build_seconds"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    answer = peer_mip.solve(
        inst, model, time_limit=time_limit, threads=os.cpu_count() or 1, rel_gap=rel_gap
    )
    out["seconds"] = time.perf_counter() - t1
    return {**out, **answer}


def _child(conn, quiet: bool, fn, args) -> None:
    if quiet:  # solver banners would interleave with the table
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
    t0 = time.perf_counter()
    try:
        out = {"ok": True, **fn(*args)}
    except Exception as exc:  # reported in the table, the benchmark goes on
        out = {
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}",
            "trace": traceback.format_exc(),
        }
    out["wall"] = time.perf_counter() - t0
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    conn.send(out)
    conn.close()


def run_isolated(fn, args: tuple, *, timeout: float, quiet: bool = True) -> dict:
    """Run fn(*args) in a fresh spawned process; kill it after ``timeout`` seconds."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, quiet, fn, args), daemon=True)
    proc.start()
    child.close()
    out = None
    timed_out = not parent.poll(timeout)
    if not timed_out:
        try:
            out = parent.recv()
        except EOFError:  # the child died before sending (e.g. killed for memory)
            pass
    proc.join(5)
    if proc.is_alive():
        proc.kill()
        proc.join()
    if out is None:
        reason = f"timed out after {timeout:.0f} s" if timed_out else "died"
        out = {"ok": False, "error": f"process {reason} (exit code {proc.exitcode})"}
    parent.close()
    return out
