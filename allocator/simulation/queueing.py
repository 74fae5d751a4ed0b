"""First-come-first-served allocation decided at every event, and the queueing formulas it must meet.

`fcfs_kernel` is the fast engine behind the ``fcfs_event`` and ``fcfs_fast`` policies: households
in order of need (then urgency, most urgent first) each take the fitting unit that frees earliest
(the smallest such), as the engine's greedy does, but on exact event times instead of weekly
batches. With identical single-bed units, Poisson arrivals and exponential stays it is an M/M/c
FCFS queue, so its mean wait must match Erlang C and its mean occupancy Little's law; with
``max_wait=0`` (overflow to a hotel) the share sent to a hotel must match Erlang B. The tests and
`benchmarks/bench_sim.py` check exactly that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of M/M/c/c with offered load ``a`` = lambda / mu (stable recursion)."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c (requires a < c)."""
    if a >= c:
        return 1.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1 - b))


def mmc_mean_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of M/M/c FCFS: C(c, a) / (c mu - lam)."""
    a = lam / mu
    if a >= c:
        return math.inf
    return erlang_c(c, a) / (c * mu - lam)


def fcfs_kernel(
    need: np.ndarray,
    stay: np.ndarray,
    fits: tuple[np.ndarray, list[np.ndarray]],
    rank: np.ndarray | list[np.ndarray],
    *,
    turnover: float = 0.0,
    not_before: np.ndarray | None = None,
    urgency: np.ndarray | None = None,
    max_wait: float = math.inf,
    horizon: float = math.inf,
    leave: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Unit and start time per household (-1 / NaN when it never gets a unit).

    ``fits`` is a pair ``(classes, masks)``: ``masks[classes[i]]`` is the boolean mask of units
    household ``i`` may use. ``rank`` orders tied units (smallest first: capacity, then kind
    preference), one array for all classes or one per class. ``not_before`` delays the
    earliest start (a weekly planner only acts on its planning day). A household whose earliest
    start is later than ``need + max_wait`` or not before ``horizon`` goes unplaced.

    ``leave`` (``inf`` where none) is the day a household leaves whatever happens (an exit-date
    clock): it is placed only if a unit frees before that day, and stays in it until that day,
    ``min(stay, leave - start)`` nights.
    """
    classes, masks = fits
    n = len(need)
    free_at = np.zeros(len(masks[0]) if masks else 0)
    unit = np.full(n, -1, dtype=np.int64)
    start = np.full(n, np.nan)
    # candidate units per class, smallest first, so argmin's first hit is the tightest unit
    cands = []
    for g, m in enumerate(masks):
        idx = np.flatnonzero(m)
        key = rank[g] if isinstance(rank, list) else rank
        cands.append(idx[np.argsort(key[idx], kind="stable")])
    earliest = need if not_before is None else np.maximum(need, not_before)
    if urgency is None:
        order = np.argsort(need, kind="stable")
    else:
        order = np.lexsort((np.arange(n), -urgency, need))
    for i in order.tolist():
        cand = cands[classes[i]]
        if cand.size == 0:
            continue
        e = earliest[i]
        t = np.maximum(free_at[cand], e)
        k = int(t.argmin())
        s = t[k]
        if s - need[i] > max_wait or s >= horizon:
            continue
        nights = stay[i]
        if leave is not None:
            if s >= leave[i]:
                continue  # left from the hotel before a unit freed
            nights = min(nights, leave[i] - s)
        u = cand[k]
        unit[i] = u
        start[i] = s
        free_at[u] = s + nights + turnover
    return unit, start


@dataclass(frozen=True)
class QueueRun:
    """Per-customer outcome of one M/M/c run, with the theory to compare it against."""

    arrival: np.ndarray
    wait: np.ndarray  # NaN for customers sent to a hotel (loss mode)
    stay: np.ndarray
    c: int
    lam: float
    mu: float

    def busy_servers(self, warmup: float) -> float:
        """Time-average busy units after ``warmup`` (Little: lambda_eff / mu)."""
        placed = ~np.isnan(self.wait)
        s = self.arrival[placed] + self.wait[placed]
        e = s + self.stay[placed]
        t_end = self.arrival[-1]
        busy = np.clip(np.minimum(e, t_end) - np.maximum(s, warmup), 0, None).sum()
        return busy / (t_end - warmup)


def simulate_mmc(
    lam: float,
    mu: float,
    c: int,
    n_customers: int,
    seed: int | np.random.SeedSequence,
    *,
    loss: bool = False,
) -> QueueRun:
    """Poisson arrivals, exponential stays, ``c`` identical single-bed units, FCFS at every event.

    Uses `fcfs_kernel`, the same code the ``fcfs_event`` policy runs on scenarios. ``loss=True``
    sends anyone who would wait to a hotel (M/M/c/c).
    """
    rng = np.random.default_rng(seed)
    arrival = np.cumsum(rng.exponential(1 / lam, n_customers))
    stay = rng.exponential(1 / mu, n_customers)
    classes = np.zeros(n_customers, dtype=np.int64)
    masks = [np.ones(c, dtype=bool)]
    unit, start = fcfs_kernel(
        arrival,
        stay,
        (classes, masks),
        np.ones(c, dtype=np.int64),
        max_wait=0.0 if loss else math.inf,
    )
    wait = np.where(unit >= 0, start - arrival, np.nan)
    return QueueRun(arrival=arrival, wait=wait, stay=stay, c=c, lam=lam, mu=mu)


def batch_means(x: np.ndarray, batches: int = 20) -> tuple[float, float]:
    """Mean and 95% half-width by batch means (the draws of one run are autocorrelated)."""
    from scipy import stats

    parts = np.array_split(x, batches)
    means = np.array([p.mean() for p in parts])
    half = stats.t.ppf(0.975, batches - 1) * means.std(ddof=1) / np.sqrt(batches)
    return float(means.mean()), float(half)
