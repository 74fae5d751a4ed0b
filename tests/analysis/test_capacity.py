"""Capacity planning: the answer is the smallest mix meeting the targets, for any worker count.

The scenario is Milan over two years (the 10-year file with a shorter horizon), small grids and
few replications; the policy is ``fcfs_fast``, so the whole file runs in a few seconds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure
from typer.testing import CliRunner

from allocator.analysis import plots
from allocator.analysis.capacity import CAPACITY_METRICS, Mix, _decide, capacity, variant
from allocator.cli import app
from allocator.cli.capacity import parse_counts
from allocator.errors import InputError
from allocator.simulation import Scenario, load_scenario, validate_scenario
from allocator.simulation.sampling import build_units

ROOMS = [20, 30, 40]
FLATS = [0, 10, 20, 30]
TARGET = 60.0
runner = CliRunner()


@pytest.fixture(scope="module")
def milan() -> Scenario:
    base = load_scenario("scenarios/milan.yaml")
    return validate_scenario({**base.model_dump(), "horizon_weeks": 104})


@pytest.fixture(scope="module")
def result(milan):
    return capacity(milan, rooms=ROOMS, flats=FLATS, target_wait_p90=TARGET, replications=6, seed=3)


def _checked(result, metric: str, by: str = "upper") -> pd.Series:
    """The value the rule compares, per mix, recomputed from the tidy curve."""
    c = result.curve[result.curve["metric"] == metric]
    return c.set_index(["rooms", "flats"])["ci_high" if by == "upper" else "mean"]


def test_answer_is_the_smallest_mix_that_meets_the_target(result):
    """Brute force over the curve: the answer meets the target, no smaller or cheaper tie does."""
    assert result.chosen is not None
    checked = _checked(result, "wait_p90")
    cost = result.curve[result.curve["metric"] == "total_cost"].set_index(["rooms", "flats"])
    meets = {mix: value <= TARGET for mix, value in checked.items()}
    chosen = (result.chosen.rooms, result.chosen.flats)
    assert meets[chosen]
    assert result.failed == []
    for (rooms, flats), ok in meets.items():
        if rooms + flats < result.chosen.units:
            assert not ok, (rooms, flats)
        elif rooms + flats == result.chosen.units and (rooms, flats) != chosen and ok:
            assert cost.loc[(rooms, flats), "mean"] >= cost.loc[chosen, "mean"]
    # the per-mix table agrees with the curve
    table = result.mixes.set_index(["rooms", "flats"])
    assert table["meets"].to_dict() == meets
    assert table.loc[chosen, "meets_wait_p90"]


def test_curve_is_tidy_and_complete(result):
    """One row per mix and metric; the interval brackets the mean; units = rooms + flats."""
    c = result.curve
    assert len(c) == len(ROOMS) * len(FLATS) * len(CAPACITY_METRICS)
    assert not c.duplicated(["rooms", "flats", "metric"]).any()
    assert (c["units"] == c["rooms"] + c["flats"]).all()
    assert ((c["ci_low"] <= c["mean"] + 1e-9) & (c["mean"] <= c["ci_high"] + 1e-9)).all()
    # the curve's means are the means of the per-replication table
    reps = result.replications
    assert len(reps) == len(ROOMS) * len(FLATS) * 6
    means = reps.groupby(["rooms", "flats"])["hotel_nights_per_year"].mean()
    hotel = c[c["metric"] == "hotel_nights_per_year"].set_index(["rooms", "flats"])["mean"]
    pd.testing.assert_series_equal(hotel.sort_index(), means.sort_index(), check_names=False)


def test_hotel_nights_count_hotel_and_shelter_per_year(milan):
    """hotel_nights_per_year = (hotel + shelter person-nights) / (horizon days / 365)."""
    from allocator.simulation import simulate

    res = capacity(milan, rooms=[20], flats=[10], target_wait_p90=30, replications=2, seed=5)
    sim = simulate(variant(milan, 20, 10), replications=2, seed=5, policies=["fcfs_fast"])
    reps = sim.replications[sim.replications["policy"] == "fcfs_fast"]
    expected = (reps["hotel_person_nights"] + reps["shelter_person_nights"]) / (
        milan.horizon_days / 365
    )
    assert np.allclose(res.replications["hotel_nights_per_year"], expected.to_numpy())
    assert expected.min() > 0  # not a vacuous comparison


def test_every_mix_sees_the_same_households(result):
    """Common random numbers: replication r has the same arrivals whatever the mix."""
    counts = result.replications.pivot(
        index="replication", columns=["rooms", "flats"], values="households"
    )
    assert counts.shape == (6, len(ROOMS) * len(FLATS))
    assert (counts.nunique(axis=1) == 1).all()
    assert counts.iloc[:, 0].nunique() > 1  # and replications do differ from each other


def test_more_flats_never_adds_many_hotel_nights(result):
    """With the same households for every mix, adding 10 flats lowers mean hotel nights.

    The greedy rule is not monotone on every sample path (an extra unit can change who is placed
    first and so who waits later: a list-scheduling anomaly), so a step may in principle add a
    little; allow 5% of the smaller grid's value plus 50 nights a year. In this grid each step of
    10 flats removes thousands of nights, so the tolerance hides no real regression.
    """
    c = result.curve[result.curve["metric"] == "hotel_nights_per_year"]
    for rooms, g in c.groupby("rooms"):
        means = g.sort_values("flats")["mean"].to_numpy()
        assert len(means) == len(FLATS)
        for fewer, more in zip(means[:-1], means[1:], strict=True):
            assert more <= fewer * 1.05 + 50, (rooms, fewer, more)
        assert means[-1] < means[0]  # and the whole sweep does lower it


def test_same_result_with_one_or_two_workers(milan, result):
    """workers=2 (mixes in a process pool) gives exactly the numbers of workers=1."""
    two = capacity(
        milan, rooms=ROOMS, flats=FLATS, target_wait_p90=TARGET, replications=6, seed=3, workers=2
    )
    pd.testing.assert_frame_equal(two.curve, result.curve)
    pd.testing.assert_frame_equal(two.replications, result.replications)
    pd.testing.assert_frame_equal(two.mixes, result.mixes)
    assert two.chosen == result.chosen and two.workers == 2


def test_fewer_mixes_than_workers_gives_the_same_result(milan):
    """One mix on two workers (replications in processes instead) matches one worker."""
    kw = dict(rooms=[30], flats=[20], target_wait_p90=TARGET, replications=4, seed=9)
    one = capacity(milan, workers=1, **kw)
    two = capacity(milan, workers=2, **kw)
    pd.testing.assert_frame_equal(one.curve, two.curve)


def test_no_mix_meets_the_target(milan):
    """An unreachable target: no answer, the failing target named, the closest mix as best."""
    res = capacity(
        milan, rooms=[20, 30], flats=[0, 10], target_hotel_nights_per_year=1.0, replications=3
    )
    assert res.chosen is None
    assert res.failed == ["hotel_nights_per_year"]
    checked = _checked(res, "hotel_nights_per_year")
    assert (checked > 1.0).all()
    assert (res.best.rooms, res.best.flats) == checked.idxmin()
    text = res.answer()
    assert text.startswith("No mix in the grid meets every target")
    assert "met by 0 of 4 mixes" in text and str(res.best) in text


def test_mean_rule_is_less_conservative(milan, result):
    """by='mean' compares means: its answer never needs more units than the interval rule's."""
    res = capacity(
        milan, rooms=ROOMS, flats=FLATS, target_wait_p90=TARGET, replications=6, seed=3, by="mean"
    )
    means = _checked(res, "wait_p90", by="mean")
    assert res.chosen is not None and means[(res.chosen.rooms, res.chosen.flats)] <= TARGET
    assert all(v > TARGET for (r, f), v in means.items() if r + f < res.chosen.units)
    assert res.chosen.units <= result.chosen.units


def test_tie_break_by_fewest_units_then_cost():
    """A hand-made curve: fewest units wins; between equal totals the cheaper; upper vs mean."""
    mixes = [Mix(0, 2), Mix(1, 1), Mix(2, 0), Mix(1, 0)]
    #                  mean p90, its upper end, mean cost
    numbers = {
        Mix(0, 2): (10.0, 12.0, 300.0),
        Mix(1, 1): (10.0, 12.0, 200.0),
        Mix(2, 0): (10.0, 12.0, 100.0),
        Mix(1, 0): (19.0, 25.0, 50.0),
    }
    rows = []
    for mix, (p90, upper, cost) in numbers.items():
        for metric in CAPACITY_METRICS:
            mean, hi = (p90, upper) if metric == "wait_p90" else (cost, cost)
            rows.append(
                {
                    "rooms": mix.rooms,
                    "flats": mix.flats,
                    "units": mix.units,
                    "metric": metric,
                    "mean": mean,
                    "ci_low": mean,
                    "ci_high": hi,
                }
            )
    curve = pd.DataFrame(rows)
    _, chosen, _, _ = _decide(curve, mixes, {"wait_p90": 20.0}, "upper")
    assert chosen == Mix(2, 0)  # the 1-unit mix's upper end 25 > 20; of three 2-unit, cheapest
    _, chosen, _, _ = _decide(curve, mixes, {"wait_p90": 20.0}, "mean")
    assert chosen == Mix(1, 0)  # its mean 19 <= 20


def test_variant_generates_the_counts_from_the_scenario_mixes(milan):
    """A variant has the requested counts, capacities from the scenario's mix, same arrivals."""
    v = variant(milan, 12, 7)
    units = build_units(v)
    assert (~units.is_flat).sum() == 12 and units.is_flat.sum() == 7
    for group, is_flat, n in ((milan.units.hub_rooms, False, 12), (milan.units.flats, True, 7)):
        caps = units.capacity[units.is_flat == is_flat]
        for beds, share in group.capacity_mix.items():
            assert abs((caps == beds).sum() - share * n) < 1  # largest remainder
    assert v.arrivals == milan.arrivals and v.horizon_weeks == milan.horizon_weeks
    assert milan.units.hub_rooms.count == 35  # the base scenario is untouched


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rooms": [-1]}, "rooms"),
        ({"flats": [1.5]}, "flats"),
        ({"flats": [True]}, "flats"),
        ({"rooms": []}, "rooms"),
        ({"rooms": [0], "flats": [0, 5]}, "rooms"),
        ({"target_wait_p90": None}, "targets"),
        ({"target_wait_p90": 0}, "target_wait_p90"),
        ({"target_hotel_nights_per_year": math.nan}, "target_hotel_nights_per_year"),
        ({"target_hotel_nights_per_year": -5}, "target_hotel_nights_per_year"),
        ({"policy": "hotel"}, "policy"),
        ({"by": "median"}, "by"),
        ({"replications": 1}, "replications"),
        ({"replications": 0, "by": "mean"}, "replications"),
        ({"workers": 0}, "workers"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_input_names_the_field(milan, kwargs, field):
    """Each bad argument raises InputError with its field, before anything is simulated."""
    args = {"rooms": [10], "flats": [5], "target_wait_p90": 30.0, "replications": 2, **kwargs}
    with pytest.raises(InputError) as err:
        capacity(milan, **args)
    assert err.value.field == field


def test_flats_on_a_scenario_without_flats_group(milan):
    """Asking for flats when the scenario defines none is an error naming 'flats'."""
    data = milan.model_dump()
    data["units"]["flats"] = None
    hub_only = validate_scenario(data)
    with pytest.raises(InputError) as err:
        capacity(hub_only, rooms=[10], flats=[0, 5], target_wait_p90=30)
    assert err.value.field == "flats"
    res = capacity(hub_only, rooms=[10], flats=[0], target_wait_p90=1000, replications=2)
    assert res.chosen == Mix(10, 0)


def test_parse_counts():
    """Ranges include their end; comma lists and ranges mix; duplicates dropped, sorted."""
    assert parse_counts("20:50:5", "--rooms") == [20, 25, 30, 35, 40, 45, 50]
    assert parse_counts("0:3", "--flats") == [0, 1, 2, 3]
    assert parse_counts("10, 0,5:10:5", "--flats") == [0, 5, 10]
    assert parse_counts("0:7:5", "--flats") == [0, 5]
    for bad in ("10:5", "a:b", "5:10:0", "1:2:3:4", "", "3,,4", "-5"):
        with pytest.raises(InputError):
            parse_counts(bad, "--rooms")


def _scenario_file(tmp_path, milan) -> str:
    path = tmp_path / "milan2.yaml"
    data = milan.model_dump(mode="json", exclude_none=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))  # key order is the draw order
    return str(path)


def test_cli_writes_the_curve_and_the_plot(tmp_path, milan):
    """The command prints the answer and the table, writes the CSV curve and a PNG; exit 0."""
    out, png = tmp_path / "curve.csv", tmp_path / "curve.png"
    args = ["capacity", _scenario_file(tmp_path, milan), "--rooms", "20:40:10", "--flats"]
    args += ["0,30", "--max-wait-p90", "60", "--max-hotel-nights", "20000", "--replications", "3"]
    args += ["--seed", "3", "--workers", "1", "--out", str(out), "--plot", str(png)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "The smallest mix that meets every target is" in res.output
    curve = pd.read_csv(out)
    assert len(curve) == 3 * 2 * len(CAPACITY_METRICS)
    assert set(zip(curve["rooms"], curve["flats"], strict=True)) == {
        (r, f) for r in (20, 30, 40) for f in (0, 30)
    }
    expected = capacity(
        milan,
        rooms=[20, 30, 40],
        flats=[0, 30],
        target_wait_p90=60,
        target_hotel_nights_per_year=20000,
        replications=3,
        seed=3,
    )
    assert np.allclose(curve["mean"], expected.curve["mean"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "options",
    [
        ["--rooms", "50:20:5", "--max-wait-p90", "30"],
        ["--rooms", "20:x", "--max-wait-p90", "30"],
        ["--flats", "0:40:0", "--max-wait-p90", "30"],
        ["--rooms", "0", "--flats", "0", "--max-wait-p90", "30"],
        ["--rooms", "20"],  # no target
        ["--rooms", "20", "--max-wait-p90", "-3"],
        ["--rooms", "20", "--max-wait-p90", "30", "--seed", "-1"],
    ],
)
def test_cli_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, milan, options):
    """A bad range or target: one line on stderr, exit code 2, neither output file written."""
    out, png = tmp_path / "curve.csv", tmp_path / "curve.png"
    args = ["capacity", _scenario_file(tmp_path, milan), *options, "--replications", "2"]
    res = runner.invoke(app, [*args, "--workers", "1", "--out", str(out), "--plot", str(png)])
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert not out.exists() and not png.exists()


def test_cli_bad_range_names_the_option(tmp_path, milan):
    """The error line names the option and the bad item."""
    res = runner.invoke(
        app,
        ["capacity", _scenario_file(tmp_path, milan), "--rooms", "50:20", "--max-wait-p90", "9"],
    )
    assert res.exit_code == 2
    assert "--rooms" in res.stderr and "50:20" in res.stderr


def test_capacity_curves_draws_the_curve(result):
    """One line per hub-room count whose points are the curve's means; the target and answer."""
    fig = plots.capacity_curves(result, "wait_p90")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    c = result.curve[result.curve["metric"] == "wait_p90"]
    lines = {line.get_gid(): line for line in ax.get_lines()}
    for rooms in ROOMS:
        line = lines[f"wait_p90:rooms={rooms}"]
        g = c[c["rooms"] == rooms].sort_values("flats")
        assert np.array_equal(line.get_xdata(), g["flats"].to_numpy(float))
        assert np.allclose(line.get_ydata(), g["mean"].to_numpy(float))
    assert np.allclose(lines["target:wait_p90"].get_ydata(), TARGET)
    star = lines["chosen:wait_p90"]
    assert star.get_xdata()[0] == result.chosen.flats
    assert len(ax.collections) == len(ROOMS)  # one 95% band per line


def test_capacity_curves_two_panels_and_given_axes(result):
    """Two metrics give two panels; given axes are drawn into; no target line without target."""
    fig = plots.capacity_curves(result, ["wait_p90", "hotel_nights_per_year"])
    assert len(fig.axes) == 2
    gids = {line.get_gid() for line in fig.axes[1].get_lines()}
    assert "hotel_nights_per_year:rooms=20" in gids and "target:hotel_nights_per_year" not in gids
    own = Figure()
    ax = own.add_subplot()
    assert plots.capacity_curves(result.curve, "wait_mean", ax=ax) is own
    assert len(ax.get_lines()) == len(ROOMS)


def test_progress_reports_start_then_every_mix(milan):
    """progress gets 0 once the inputs are checked, then 1..n as the mixes finish."""
    calls: list[int] = []
    capacity(
        milan, rooms=[20, 30], flats=[10], target_wait_p90=30, replications=2, progress=calls.append
    )
    assert calls == [0, 1, 2]
    calls.clear()
    with pytest.raises(InputError):
        capacity(milan, rooms=[-1], flats=[10], target_wait_p90=30, progress=calls.append)
    assert calls == []
