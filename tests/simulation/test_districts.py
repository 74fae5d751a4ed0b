"""The simulation with districts: units and anchors drawn from the scenario's shares, the share
placed near the anchor reported, weight 0 changing nothing, and Milan's municipi."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from allocator.errors import InputError
from allocator.simulation import simulate, validate_scenario
from allocator.simulation.examples import small
from allocator.simulation.sampling import build_units, sample_households
from allocator.simulation.scenario import load_scenario

LINE = {"names": ["A", "B", "C"], "adjacent": [["A", "B"], ["B", "C"]]}


def with_districts(weight: float, anchor_share: float = 0.8) -> dict:
    """The small scenario, its rooms in districts A and C, most households anchored."""
    data = small()
    units = copy.deepcopy(data["units"])
    units["hub_rooms"]["district_mix"] = {"A": 0.5, "C": 0.5}
    arrivals = dict(data["arrivals"])
    arrivals.update(anchor_share=anchor_share, anchor_district_mix={"A": 0.5, "C": 0.5})
    policy = {"districts": LINE, "district_weight": weight, "horizon_weeks": 4}
    return small(units=units, arrivals=arrivals, policy=policy)


def test_units_and_anchors_follow_the_shares() -> None:
    """Units get the district mix exactly (whole numbers); anchors about the anchor share; the
    other draws are those of the scenario without anchors (their own stream)."""
    sc = validate_scenario(with_districts(0.0))
    units = build_units(sc)
    assert sorted(units.district.tolist()) == ["A"] * 3 + ["C"] * 3
    seed = np.random.SeedSequence(3)
    hh = sample_households(sc, seed)
    share = np.mean([a is not None for a in hh.anchor])
    assert 0.6 < share < 0.95
    plain = sample_households(validate_scenario(small()), np.random.SeedSequence(3))
    assert plain.anchor is None
    for name in ("need", "size", "urgency", "stay", "support", "shelter_draw"):
        assert np.array_equal(getattr(hh, name), getattr(plain, name)), name


@pytest.fixture(scope="module")
def runs() -> dict[float, pd.DataFrame]:
    out = {}
    for w in (0.0, 200.0):
        r = simulate(with_districts(w), replications=2, seed=1, policies=["greedy"], workers=1)
        out[w] = r.replications.set_index(["replication", "policy"])
    return out


def test_weight_zero_changes_no_metric(runs: dict[float, pd.DataFrame]) -> None:
    """With district_weight 0, every metric equals the run of the same scenario without districts
    (the anchor shares aside, which only the district scenario has)."""
    plain = simulate(small(policy={"horizon_weeks": 4}), replications=2, seed=1,
                     policies=["greedy"], workers=1)  # fmt: skip
    base = plain.replications.set_index(["replication", "policy"]).drop(columns="seconds")
    mine = runs[0.0].drop(columns=["seconds", "anchor_same_share", "anchor_near_share"])
    pd.testing.assert_frame_equal(mine[base.columns], base)


def test_the_share_near_the_anchor_is_reported_and_grows_with_the_weight(
    runs: dict[float, pd.DataFrame],
) -> None:
    """The replications report the shares near the anchor; a large weight raises them."""
    greedy = [runs[w].xs("greedy", level="policy") for w in (0.0, 200.0)]
    for g in greedy:
        assert g["anchor_same_share"].between(0, 1).all()
        assert (g["anchor_near_share"] >= g["anchor_same_share"]).all()
    assert greedy[1]["anchor_same_share"].mean() > greedy[0]["anchor_same_share"].mean()
    hotel = runs[0.0].xs("hotel", level="policy")
    assert hotel["anchor_same_share"].isna().all()


def test_a_district_off_the_map_is_refused() -> None:
    """A unit district the policy's map does not list is one line naming it."""
    data = with_districts(1.0)
    data["units"]["hub_rooms"]["district_mix"] = {"A": 0.5, "Z": 0.5}
    with pytest.raises(InputError, match="district 'Z' is not on the policy's district map"):
        validate_scenario(data)
    data = with_districts(1.0)
    data["arrivals"]["anchor_district_mix"] = None
    with pytest.raises(InputError, match="anchor_share > 0 needs anchor_district_mix"):
        validate_scenario(data)


def test_milan_has_municipi_for_units_and_anchors() -> None:
    """Milan's scenario places its units and anchors in the 9 municipi, at weight 0 by default."""
    sc = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "milan.yaml")
    assert sc.policy.districts == "milan_municipi" and sc.policy.district_weight == 0
    units = build_units(sc)
    assert set(units.district.tolist()) <= {f"M{k}" for k in range(1, 10)}
    assert sum(sc.arrivals.anchor_district_mix.values()) == pytest.approx(1.0)
