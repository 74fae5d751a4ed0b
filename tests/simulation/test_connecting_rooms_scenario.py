"""Scenarios with connecting rooms: groups are made of the largest units of one district, the
Milan hub has estimated groups, and bad groups are refused naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocator.errors import InputError
from allocator.simulation import load_scenario, validate_scenario
from allocator.simulation.examples import small
from allocator.simulation.sampling import build_units

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _hub(**group) -> dict:
    return {
        "hub_rooms": {
            "count": 8,
            "capacity_mix": {2: 0.5, 4: 0.5},
            "operating_cost_per_unit_night": 10,
            **group,
        }
    }


def test_groups_take_the_largest_rooms_in_runs():
    """Two pairs: the four 4-bed rooms, largest first; the other rooms have no group."""
    units = build_units(validate_scenario(small(units=_hub(connecting_groups={"count": 2}))))
    assert units.group is not None
    grouped = {u: g for u, g in zip(units.unit_id, units.group, strict=True) if g}
    assert sorted(set(grouped.values())) == ["RG01", "RG02"]
    assert all(units.capacity[list(units.unit_id).index(u)] == 4 for u in grouped)
    assert sum(g == "RG01" for g in grouped.values()) == 2


def test_groups_stay_within_one_district():
    """With two districts, each group's rooms share one district."""
    hub = _hub(
        connecting_groups={"count": 3, "rooms": 2},
        district_mix={"A": 0.5, "B": 0.5},
    )
    units = build_units(validate_scenario(small(units=hub)))
    assert units.group is not None and units.district is not None
    for g in {g for g in units.group if g}:
        assert len({d for d, h in zip(units.district, units.group, strict=True) if h == g}) == 1


def test_no_groups_no_group_column():
    """A scenario without connecting groups builds units as before (no group array)."""
    assert build_units(validate_scenario(small())).group is None


def test_more_groups_than_the_units_make_gives_those_they_make():
    """Five pairs asked of two districts of four rooms: four pairs (a capacity sweep's small
    mixes keep working), and none of three rooms of one district each."""
    hub = _hub(connecting_groups={"count": 5, "rooms": 2}, district_mix={"A": 0.5, "B": 0.5})
    units = build_units(validate_scenario(small(units=hub)))
    assert units.group is not None and len({g for g in units.group if g}) == 4
    hub = _hub(connecting_groups={"count": 1, "rooms": 4}, district_mix={"A": 0.5, "B": 0.5})
    hub["hub_rooms"]["count"] = 6
    assert build_units(validate_scenario(small(units=hub))).group is None


def test_groups_of_one_room_are_refused():
    """A connecting group needs 2 to 4 rooms."""
    with pytest.raises(InputError) as err:
        validate_scenario(small(units=_hub(connecting_groups={"count": 1, "rooms": 1})))
    assert err.value.field == "units.hub_rooms.connecting_groups.rooms"


def test_explicit_units_of_one_group_share_kind_and_district():
    """Explicit units of one group of two kinds are refused; of one kind they carry the group."""
    room = {"kind": "hub_room", "capacity": 4, "group": "G1"}
    units = {"explicit": [{"unit_id": "A", **room}, {"unit_id": "B", **room, "kind": "flat"}]}
    with pytest.raises(InputError, match="G1"):
        validate_scenario(small(units=units))
    units = {"explicit": [{"unit_id": "A", **room}, {"unit_id": "B", **room}]}
    built = build_units(validate_scenario(small(units=units)))
    assert built.group is not None and list(built.group) == ["G1", "G1"]


def test_milan_hub_has_estimated_connecting_groups_for_families_of_seven_and_more():
    """Milan: 3 pairs of 4-bed hub rooms (marked est.), households of 7 and 8 that no unit fits,
    and the variants inherit the groups."""
    text = (SCENARIOS / "milan.yaml").read_text()
    before = text[: text.index("connecting_groups:")].splitlines()[-5:]
    assert any("(est.)" in line for line in before)
    milan = load_scenario(SCENARIOS / "milan.yaml")
    units = build_units(milan)
    assert units.group is not None
    grouped = [k for k, g in enumerate(units.group) if g]
    assert len(grouped) == 6 and not units.is_flat[grouped].any()
    assert (units.capacity[grouped] == 4).all()
    assert max(milan.arrivals.size_mix) > units.capacity.max()
    assert sum(milan.arrivals.size_mix.values()) == pytest.approx(1.0)
    hub_only = build_units(load_scenario(SCENARIOS / "milan_hub_only.yaml"))
    assert hub_only.group is not None and sum(g is not None for g in hub_only.group) == 6
