"""Throughput simulation of the allocation engine against the hotel baseline (issue #4).

`simulate(scenario, replications=..., seed=..., policies=...)` returns a `SimulationResult` with
tidy DataFrames; `load_scenario(path)` reads a validated YAML scenario.
"""

from allocator.simulation.queueing import erlang_b, erlang_c, mmc_mean_wait, simulate_mmc
from allocator.simulation.results import METRICS, SimulationResult, mean_interval
from allocator.simulation.runner import DEFAULT_POLICIES, check_seed, simulate
from allocator.simulation.scenario import Scenario, load_scenario, validate_scenario, vary
from allocator.simulation.weekly import POLICIES

__all__ = [
    "DEFAULT_POLICIES",
    "METRICS",
    "POLICIES",
    "Scenario",
    "check_seed",
    "SimulationResult",
    "erlang_b",
    "erlang_c",
    "load_scenario",
    "mean_interval",
    "mmc_mean_wait",
    "simulate",
    "simulate_mmc",
    "validate_scenario",
    "vary",
]
