"""Throughput simulation of the allocation engine against the hotel baseline (issue #4).

`simulate(scenario, replications=..., seed=..., policies=...)` returns a `SimulationResult` with
tidy DataFrames; `load_scenario(path)` reads a validated YAML scenario; `clock_table` sets its
savings beside those of `switch_clocks(scenario)` (every pathway on the other stay clock).
"""

from allocator.simulation.clocks import CLOCK_METRICS, clock_caption, clock_table, clock_wide
from allocator.simulation.queueing import erlang_b, erlang_c, mmc_mean_wait, simulate_mmc
from allocator.simulation.results import METRICS, SimulationResult, mean_interval
from allocator.simulation.runner import DEFAULT_POLICIES, check_engine, check_seed, simulate
from allocator.simulation.scenario import (
    Scenario,
    load_scenario,
    switch_clocks,
    validate_scenario,
    vary,
)
from allocator.simulation.weekly import POLICIES

__all__ = [
    "CLOCK_METRICS",
    "DEFAULT_POLICIES",
    "METRICS",
    "POLICIES",
    "Scenario",
    "check_engine",
    "check_seed",
    "clock_caption",
    "clock_table",
    "clock_wide",
    "SimulationResult",
    "erlang_b",
    "erlang_c",
    "load_scenario",
    "mean_interval",
    "mmc_mean_wait",
    "simulate",
    "simulate_mmc",
    "switch_clocks",
    "validate_scenario",
    "vary",
]
