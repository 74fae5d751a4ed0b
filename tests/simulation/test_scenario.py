"""Scenario files: the shipped ones load, and each kind of bad field gets one error naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from allocator.errors import InputError
from allocator.simulation import load_scenario, validate_scenario, vary
from allocator.simulation.examples import small
from allocator.simulation.sampling import build_units, sample_households

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_scenarios_load(path):
    """Every shipped scenario (the variants extend milan.yaml) validates and samples."""
    s = load_scenario(path)
    assert s.horizon_weeks == 520
    assert len(build_units(s)) > 0


def test_variants_change_only_what_they_say():
    """A variant keeps the base's fields except the ones it overrides."""
    base = load_scenario(SCENARIOS / "milan.yaml")
    flats = load_scenario(SCENARIOS / "milan_more_flats.yaml")
    assert flats.units.flats.count == 2 * base.units.flats.count
    assert flats.units.flats.capacity_mix == base.units.flats.capacity_mix
    assert flats.arrivals == base.arrivals
    hub = load_scenario(SCENARIOS / "milan_hub_only.yaml")
    assert hub.units.flats.count == 0


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda d: d["arrivals"].update(weekly_rate=-1), "arrivals.weekly_rate", "from 0 to"),
        (lambda d: d["arrivals"].update(weekly_rat=1), "arrivals.weekly_rat", "unknown field"),
        (
            lambda d: d["pathways"]["private"]["stay"].pop("sd"),
            "pathways.private.stay",
            "needs sd",
        ),
        (
            lambda d: d["pathways"]["family"].update(stay={"dist": "uniform", "low": 5, "high": 2}),
            "pathways.family.stay",
            "high > low",
        ),
        (
            lambda d: d["pathways"]["family"].update(stay={"dist": "weibull", "mean": 5}),
            "pathways.family.stay.dist",
            "exponential",
        ),
        (lambda d: d["pathways"]["family"].update(share=0.9), "pathways", "sum to 1"),
        (lambda d: d["arrivals"].update(seasonality=[1, 2]), "arrivals.seasonality", "12"),
        (
            lambda d: d["costs"].update(hotel_per_person_night=-3),
            "costs.hotel_per_person_night",
            "",
        ),
        (lambda d: d["units"]["hub_rooms"].update(count=0), "units", "no units"),
        (lambda d: d.update(policy={"turnover_days": -1}), "policy.turnover_days", ""),
        (lambda d: d.update(start="2027-13-45"), "start", "not a date"),
        (
            lambda d: d["arrivals"].update(mediation_share=0.5, mediation_languages=[]),
            "arrivals",
            "mediation_languages",
        ),
    ],
)
def test_bad_field_is_named(tmp_path, change, field, words):
    """A bad field, a negative rate or an unsampleable distribution: one error naming the field."""
    data = small()
    change(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert err.value.field == field
    assert err.value.source == str(path)
    assert words in str(err.value)


def test_not_yaml_and_missing_file(tmp_path):
    """Unreadable input names the file."""
    bad = tmp_path / "x.yaml"
    bad.write_text("a: [1, 2")
    with pytest.raises(InputError, match="not valid YAML"):
        load_scenario(bad)
    with pytest.raises(InputError, match="file not found"):
        load_scenario(tmp_path / "nope.yaml")


def test_sampling_follows_the_mix():
    """Arrival count and size mix follow the scenario (a loose statistical check)."""
    import numpy as np

    s = validate_scenario(small(horizon_weeks=520))
    hh = sample_households(s, np.random.SeedSequence(3))
    assert abs(len(hh) - 3.0 * 520) < 4 * np.sqrt(3.0 * 520)
    assert abs((hh.size == 1).mean() - 0.7) < 0.05
    assert (np.diff(hh.need) >= 0).all() and hh.stay.min() >= 1


def test_extends_cycle_is_named(tmp_path):
    """Two variants that extend each other: one error, not a recursion."""
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(InputError) as err:
        load_scenario(tmp_path / "a.yaml")
    assert err.value.field == "extends"
    assert "cycle" in str(err.value)


def test_vary_changes_dotted_fields_and_validates():
    base = load_scenario(SCENARIOS / "milan.yaml")
    v = vary(base, {"arrivals.weekly_rate": 3.5, "units.flats.count": 30, "horizon_weeks": 52})
    assert (v.arrivals.weekly_rate, v.units.flats.count, v.horizon_weeks) == (3.5, 30, 52)
    assert v.costs == base.costs and v.pathways == base.pathways
    with pytest.raises(InputError) as bad:
        vary(base, {"arrivals.weekly_rate": -1})
    assert bad.value.field == "arrivals.weekly_rate"
    with pytest.raises(InputError) as unknown:
        vary(base, {"arrivals.nonsense.rate": 1})
    assert unknown.value.field == "arrivals.nonsense.rate"
    with pytest.raises(InputError) as extra:
        vary(base, {"costs.caviar_per_night": 1})
    assert extra.value.field == "costs.caviar_per_night"


def test_a_copied_scenario_is_checked_again():
    base = load_scenario(SCENARIOS / "milan.yaml")
    with pytest.raises(InputError) as bad:
        validate_scenario(base.model_copy(update={"horizon_weeks": -5}))
    assert bad.value.field == "horizon_weeks"
    assert validate_scenario(base) == base


def test_a_variant_whose_base_file_is_missing_names_itself_and_extends(tmp_path):
    """`extends:` naming no file: one line with the variant's file and the field."""
    variant = tmp_path / "variant.yaml"
    variant.write_text("extends: -6\n")
    with pytest.raises(InputError) as refused:
        load_scenario(variant)
    assert refused.value.source == str(variant) and refused.value.field == "extends"
    assert "'-6'" in str(refused.value) and "\n" not in str(refused.value)
