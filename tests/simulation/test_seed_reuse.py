"""A replication's seed object gives the same households however often it is sampled from:
sampling derives its streams without spawning from it (`sampling.children`), which would count
children on the object and hand a second sampling other numbers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from allocator.simulation import validate_scenario
from allocator.simulation.examples import small
from allocator.simulation.sampling import children, sample_households


def _same(a, b) -> bool:
    return all(
        np.array_equal(x, y, equal_nan=isinstance(x, np.ndarray) and x.dtype.kind == "f")
        if isinstance(x, np.ndarray)
        else x == y
        for x, y in zip(dataclasses.astuple(a), dataclasses.astuple(b), strict=True)
    )


def test_sampling_twice_from_one_seed_object_gives_the_same_households() -> None:
    scenario = validate_scenario(small(horizon_weeks=26))
    seed = np.random.SeedSequence(4).spawn(3)[2]
    first, again = sample_households(scenario, seed), sample_households(scenario, seed)
    assert len(first) > 0 and _same(first, again)
    assert seed.n_children_spawned == 0  # the caller's seed is left as it was


@pytest.mark.parametrize("entropy", [0, 1, 2**80 + 3])
def test_children_are_what_spawn_gives_a_fresh_seed(entropy: int) -> None:
    """So the households of every replication `simulate` runs are those of earlier versions."""
    for seed in (np.random.SeedSequence(entropy), np.random.SeedSequence(entropy).spawn(5)[4]):
        mine = [c.generate_state(8) for c in children(seed, 4)]
        theirs = [c.generate_state(8) for c in seed.spawn(4)]
        assert all(np.array_equal(a, b) for a, b in zip(mine, theirs, strict=True))
