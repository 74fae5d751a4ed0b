"""Queueing theory: the event-driven FCFS engine reproduces Erlang C, Little's law and Erlang B."""

from __future__ import annotations

import numpy as np

from allocator.simulation.queueing import (
    batch_means,
    erlang_b,
    erlang_c,
    mmc_mean_wait,
    simulate_mmc,
)

LAM, MU, C = 4.0, 1.0, 5  # offered load 4 erlangs on 5 identical single-bed units
N, WARMUP = 120_000, 10_000


def test_formulas_on_known_values():
    """Erlang B/C against textbook values (c=1: B = a/(1+a), C = a)."""
    assert np.isclose(erlang_b(1, 0.5), 0.5 / 1.5)
    assert np.isclose(erlang_c(1, 0.5), 0.5)
    assert np.isclose(erlang_b(5, 4.0), 0.19906687, atol=1e-7)
    assert np.isclose(mmc_mean_wait(0.5, 1.0, 1), 1.0)  # M/M/1: rho / (mu - lam)


def test_mmc_mean_wait_matches_erlang_c():
    """Mean wait in queue is within the simulation's 95% batch-means interval of Erlang C."""
    run = simulate_mmc(LAM, MU, C, N, seed=11)
    mean, half = batch_means(run.wait[WARMUP:], batches=30)
    theory = mmc_mean_wait(LAM, MU, C)
    assert abs(mean - theory) <= half, (mean, half, theory)
    assert half < 0.15 * theory  # the interval is tight enough to mean something


def test_occupancy_matches_littles_law():
    """Time-average busy units equal lambda / mu (Little's law on the units)."""
    run = simulate_mmc(LAM, MU, C, N, seed=12)
    busy = run.busy_servers(run.arrival[WARMUP])
    assert abs(busy - LAM / MU) < 0.03 * LAM / MU


def test_hotel_share_matches_erlang_b():
    """With no waiting (overflow to a hotel) the hotel share is Erlang B, within its interval."""
    run = simulate_mmc(LAM, MU, C, N, seed=13, loss=True)
    blocked = np.isnan(run.wait[WARMUP:]).astype(float)
    mean, half = batch_means(blocked, batches=30)
    assert abs(mean - erlang_b(C, LAM / MU)) <= half, (mean, half)
