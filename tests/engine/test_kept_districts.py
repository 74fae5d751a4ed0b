"""What `build_instance` keeps between calls (the units' facts, their districts and distances)
gives the instance built afresh when the district map or the names in use change, and when
threads build instances of different tables at once (the web console plans in threads)."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np

from allocator.districts import DistrictMap
from allocator.engine import instance as instance_module
from allocator.engine.instance import Instance, Overrides, build_instance
from allocator.errors import InputError
from allocator.tables import Tables, validate_tables
from allocator.testing import random_scenario

MAPS = [
    DistrictMap(names=["A", "B", "C"], adjacent=[("A", "B")]),
    DistrictMap(names=["A", "B", "C"], adjacent=[("B", "C")]),
]


def _digest(inst: Instance) -> list[str]:
    """Every field but the tables and policy, as text (sets sorted)."""
    out = []
    for field in dataclasses.fields(Instance):
        if field.name in ("tables", "policy"):
            continue
        value = getattr(inst, field.name)
        if isinstance(value, np.ndarray):
            out.append(f"{value.dtype}{value.tolist()!r}")
        else:
            out.append(repr(sorted(value) if isinstance(value, set) else value))
    return out


def _afresh(case: tuple) -> list[str] | str:
    """The instance with nothing kept from an earlier call (an error's text if refused)."""
    instance_module._kept_unit_facts.clear()
    instance_module._kept_districts.clear()
    return _built(case)


def _built(case: tuple) -> list[str] | str:
    try:
        return _digest(build_instance(*case))
    except InputError as err:
        return str(err)


def _cases(seeds: range) -> list[tuple]:
    """Per seed, the same units and households with anchors, under each map; then one
    household's anchor changed (the names in use change with it)."""
    cases = []
    for seed in seeds:
        sc = random_scenario(seed, n_households=6, n_units=5, horizon_weeks=1)
        tables = validate_tables(
            sc.households, sc.units, sc.stays, start=sc.start, turnover_days=sc.policy.turnover_days
        )
        rng = np.random.default_rng(seed)
        units = [
            u.model_copy(update={"district": str(rng.choice(["A", "B"]))}) for u in tables.units
        ]
        households = [h.model_copy(update={"anchor_district": "A"}) for h in tables.households]
        moved = [households[0].model_copy(update={"anchor_district": "C"}), *households[1:]]
        overrides = Overrides.of(sc.pins, sc.forbids)
        for district_map in MAPS:
            policy = sc.policy.model_copy(
                update={"districts": district_map, "district_weight": 1.0}
            )
            for hh in (households, moved):
                cases.append(
                    (
                        Tables(households=hh, units=units, stays=tables.stays),
                        sc.start,
                        policy,
                        overrides,
                    )
                )
    return cases


def test_a_changed_map_or_anchor_gives_the_instance_built_afresh() -> None:
    """Built one after another with the same unit records: each equals the one built afresh."""
    cases = _cases(range(8))
    expected = [_afresh(case) for case in cases]
    assert expected[0] != expected[2]  # the maps' distances differ
    assert expected[0] != expected[1]  # so do the anchors' districts
    instance_module._kept_unit_facts.clear()
    instance_module._kept_districts.clear()
    for case, want in zip(cases, expected, strict=True):
        assert _built(case) == want


def test_threads_building_at_once_get_the_instances_built_afresh() -> None:
    """Four threads build instances of alternating tables and maps: each as built afresh."""
    cases = _cases(range(4))
    expected = [_afresh(case) for case in cases]
    wrong: list[int] = []

    def work(k: int) -> None:
        rng = np.random.default_rng(k)
        for _ in range(60):
            j = int(rng.integers(len(cases)))
            if _built(cases[j]) != expected[j]:
                wrong.append(j)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
