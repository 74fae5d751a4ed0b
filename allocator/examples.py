"""Seeded example instances: the demo's data, the tests' fixtures and the benchmarks' generator.

The size mix follows Milan's public-housing waiting list (2008), the share with minors the Milan
RST guests (2016); see `scenarios/milan.yaml` for sources. Everything else is a plausible estimate
for a synthetic instance, not a calibration.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

SIZE_SHARES = {1: 0.389, 2: 0.225, 3: 0.180, 4: 0.136, 5: 0.052, 6: 0.018}
LANGUAGES = ["arabic", "spanish", "tigrinya", "chinese"]


def generate(
    n_households: int,
    n_units: int,
    *,
    seed: int = 0,
    start: dt.date = dt.date(2026, 12, 7),
    horizon_weeks: int = 26,
    occupied_share: float = 0.7,
    exit_dated_share: float = 0.0,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A random week: households, units and current stays, all valid input for `plan`.

    ``exit_dated_share`` of the households (drawn after everything else, so a seed gives the same
    week as ever) give an ``expected_exit_date`` instead of ``expected_stay_days``: their need
    date plus the length drawn for them, so the exit comes on that day whenever they move in.
    """
    rng = np.random.default_rng(seed)
    H = 7 * horizon_weeks
    # drawn in this order (units, stays, households), so that a seed gives the same week as ever
    units, late = _units(rng, n_units, start, H)
    stays = _stays(rng, list(units["unit_id"]), late, start, occupied_share)
    households = _households(rng, n_households, start, H)
    if exit_dated_share > 0:
        dated = rng.random(n_households) < exit_dated_share
        rows = zip(households["need_date"], households["expected_stay_days"], dated, strict=True)
        households["expected_exit_date"] = [
            need + dt.timedelta(days=int(days)) if d else None for need, days, d in rows
        ]
        households["expected_stay_days"] = households["expected_stay_days"].where(~dated)
    return households, units, stays


def _units(
    rng: np.random.Generator, n_units: int, start: dt.date, H: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """Flats (2-6 beds) and hub rooms (1-4 beds), a few opening late; and which open late."""
    flat = rng.random(n_units) < 0.55
    capacity = np.where(
        flat,
        rng.choice([2, 3, 4, 5, 6], n_units, p=[0.3, 0.3, 0.25, 0.1, 0.05]),
        rng.choice([1, 2, 3, 4], n_units, p=[0.3, 0.35, 0.2, 0.15]),
    )
    unit_ids = [f"U{k:05d}" for k in range(n_units)]
    late = rng.random(n_units) < 0.05
    units = pd.DataFrame(
        {
            "unit_id": unit_ids,
            "kind": np.where(flat, "flat", "hub_room"),
            "capacity": capacity,
            "accessible": rng.random(n_units) < 0.2,
            "available_from": [
                start + dt.timedelta(days=int(d)) if lt else None
                for d, lt in zip(rng.integers(7, H // 2, n_units), late, strict=True)
            ],
            "available_until": None,
            "nightly_cost": np.round(np.where(flat, 25.0, 18.0) + 4.0 * capacity, 2),
        }
    )
    return units, late


def _stays(
    rng: np.random.Generator,
    unit_ids: list[str],
    late: np.ndarray,
    start: dt.date,
    occupied_share: float,
) -> pd.DataFrame:
    """A current stay in about ``occupied_share`` of the units open now, ending within 150 days."""
    occupied = (rng.random(len(unit_ids)) < occupied_share) & ~late
    return pd.DataFrame(
        {
            "household_id": [f"S{k:05d}" for k in range(int(occupied.sum()))],
            "unit_id": np.array(unit_ids)[occupied],
            "start": [
                start - dt.timedelta(days=int(d)) for d in rng.integers(1, 300, occupied.sum())
            ],
            "expected_end": [
                start + dt.timedelta(days=int(d)) for d in rng.integers(0, 150, occupied.sum())
            ],
        }
    )


def _households(
    rng: np.random.Generator, n_households: int, start: dt.date, H: int
) -> pd.DataFrame:
    """Requests with Milan's size mix, needed from three weeks ago to 70% into the horizon."""
    sizes = rng.choice(
        list(SIZE_SHARES),
        n_households,
        p=np.array(list(SIZE_SHARES.values())) / sum(SIZE_SHARES.values()),
    )
    minors = np.where(
        (sizes >= 2) & (rng.random(n_households) < 0.53), rng.integers(1, np.maximum(sizes, 2)), 0
    )
    need = rng.integers(-21, int(0.7 * H), n_households)
    stay_days = np.clip(rng.lognormal(np.log(110), 0.6, n_households), 14, 540).astype(int)
    has_language = rng.random(n_households) < 0.2
    return pd.DataFrame(
        {
            "household_id": [f"H{k:05d}" for k in range(n_households)],
            "size": sizes,
            "minors": minors,
            "urgency": rng.choice([1, 2, 3, 4, 5], n_households, p=[0.15, 0.25, 0.3, 0.2, 0.1]),
            "need_date": [start + dt.timedelta(days=int(d)) for d in need],
            "expected_stay_days": stay_days,
            "support": rng.choice(["low", "medium", "high"], n_households, p=[0.3, 0.45, 0.25]),
            "accessible": rng.random(n_households) < 0.08,
            "exit_pathway": rng.choice(
                ["public_housing", "rental_agency", "private", "family", "other", "unknown"],
                n_households,
            ),
            "language": [
                lang if has else None
                for has, lang in zip(has_language, rng.choice(LANGUAGES, n_households), strict=True)
            ],
        }
    )


def demo() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The small embedded example `allocator demo` plans: 24 households, 14 units."""
    return generate(24, 14, seed=7, occupied_share=0.6)
