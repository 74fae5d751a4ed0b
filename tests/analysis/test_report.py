"""The HTML report: its numbers are the simulation's, it is self-contained, and errors write nothing."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from allocator.analysis.report import Cell, build_report, fmt, write_report
from allocator.cli import app
from allocator.simulation import load_scenario, simulate, switch_clocks
from allocator.simulation.sources import read_assumptions

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SEED = 7
REPS = 3
SENS_REPS = 4
runner = CliRunner()


def short_milan(folder: Path, weeks: int = 52) -> Path:
    """milan.yaml, comments and all, with a short horizon."""
    text = (SCENARIOS / "milan.yaml").read_text(encoding="utf-8")
    text, n = re.subn(r"^horizon_weeks: *\d+", f"horizon_weeks: {weeks}", text, flags=re.M)
    assert n == 1
    path = folder / "milan_short.yaml"
    path.write_text(text, encoding="utf-8")
    return path


class _Page(HTMLParser):
    """Collects the machine-readable numbers (data-key/-mean/-low/-high), images and links."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[str, dict[str, float]] = {}
        self.swings: list[float] = []
        self.imgs: list[str] = []
        self.refs: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self._text_of: str | None = None
        self.text: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "data-key" in a:
            self.cells[a["data-key"]] = {
                k: float(a[f"data-{k}"]) for k in ("mean", "low", "high") if f"data-{k}" in a
            }
        if "data-swing" in a:
            self.swings.append(float(a["data-swing"]))
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        for attr in ("src", "href", "action", "srcset", "poster", "data"):
            if attr in a:
                self.refs.append((tag, attr, a[attr] or ""))


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    return short_milan(tmp_path_factory.mktemp("scenario"))


@pytest.fixture(scope="module")
def page(scenario_file, tmp_path_factory) -> tuple[str, _Page]:
    out = tmp_path_factory.mktemp("report") / "report.html"
    res = runner.invoke(
        app,
        [
            "report",
            str(scenario_file),
            "--out",
            str(out),
            "--replications",
            str(REPS),
            "--sensitivity-replications",
            str(SENS_REPS),
            "--seed",
            str(SEED),
            "--workers",
            "1",
            "--policy",
            "greedy,fcfs_fast",
        ],
    )
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    parsed = _Page()
    parsed.feed(html)
    return html, parsed


def test_numbers_equal_the_simulation(page, scenario_file):
    """Every policy's results in the HTML are `simulate`'s with the same seed and replications."""
    _, p = page
    result = simulate(
        load_scenario(scenario_file), replications=REPS, seed=SEED, policies=["greedy", "fcfs_fast"]
    )
    s = result.summary.set_index(["policy", "metric"])
    checked = 0
    for policy in ("greedy", "fcfs_fast", "hotel"):
        for metric in ("served", "hotel_person_nights", "separations", "wait_mean", "wait_p90",
                       "total_cost", "households", "occupancy"):  # fmt: skip
            want = s.loc[(policy, metric)]
            got = p.cells[f"{policy}:{metric}"]
            for k, col in (("mean", "mean"), ("low", "ci_low"), ("high", "ci_high")):
                if want[col] != want[col]:  # NaN: hotel occupancy
                    assert got[k] != got[k]
                else:
                    assert got[k] == pytest.approx(want[col], rel=1e-12, abs=1e-9)
                    checked += 1
    for policy in ("greedy", "fcfs_fast"):
        want = s.loc[(policy, "savings")]
        got = p.cells[f"{policy}:savings"]
        assert (got["mean"], got["low"], got["high"]) == pytest.approx(
            (want["mean"], want["ci_low"], want["ci_high"]), rel=1e-12
        )
        for metric, base in (
            ("hotel_nights_avoided", "hotel_person_nights"),
            ("separations_avoided", "separations"),
        ):
            diff = s.loc[("hotel", base), "mean"] - s.loc[(policy, base), "mean"]
            assert p.cells[f"{policy}:{metric}"]["mean"] == pytest.approx(diff, abs=1e-9)
    assert checked > 40


def test_headline_text_shows_the_simulated_savings(page, scenario_file):
    """The savings shown to the reader are the simulation's mean, formatted, not another number."""
    html, _ = page
    result = simulate(
        load_scenario(scenario_file), replications=REPS, seed=SEED, policies=["greedy"]
    )
    s = result.summary.set_index(["policy", "metric"])
    assert fmt(s.loc[("greedy", "savings"), "mean"], "eur") in html
    assert fmt(s.loc[("greedy", "served"), "mean"], "count") in html


def test_sensitivity_rows_sorted_by_swing_and_base_matches(page, scenario_file):
    """Tornado rows are in decreasing swing; the base savings is fcfs_fast's with the same seed."""
    _, p = page
    assert len(p.swings) >= 8
    assert p.swings == sorted(p.swings, reverse=True)
    assert p.swings[0] > 0
    result = simulate(
        load_scenario(scenario_file), replications=SENS_REPS, seed=SEED, policies=["fcfs_fast"]
    )
    s = result.summary.set_index(["policy", "metric"])
    assert p.cells["sensitivity:base"]["mean"] == pytest.approx(
        s.loc[("fcfs_fast", "savings"), "mean"], rel=1e-12
    )
    low = p.cells["arrivals.weekly_rate:low"]["mean"]
    high = p.cells["arrivals.weekly_rate:high"]["mean"]
    assert low != high


def test_clock_rows_are_the_simulation_as_written_and_switched(page, scenario_file):
    """The stay-clock table shows fcfs_fast's savings as written (the tornado's base) and with
    every pathway switched, the same seed; the page says the warm-up is not counted."""
    html, p = page
    scenario = load_scenario(scenario_file)
    for key, s in (("as_written", scenario), ("switched", switch_clocks(scenario))):
        r = simulate(s, replications=SENS_REPS, seed=SEED, policies=["fcfs_fast"])
        summary = r.summary.set_index(["policy", "metric"])
        for metric in ("savings", "hotel_nights_avoided", "exited_waiting"):
            assert p.cells[f"clocks:{key}:{metric}"]["mean"] == pytest.approx(
                summary.loc[("fcfs_fast", metric), "mean"], rel=1e-12
            )
    assert p.cells["clocks:as_written:savings"]["mean"] == p.cells["sensitivity:base"]["mean"]
    text = " ".join(html.split())
    assert "after a 52-week warm-up that is simulated but not counted" in text
    assert "exit_date: public_housing, rental_agency" in text


def test_every_figure_is_embedded_and_nothing_is_external(page):
    """Seven PNGs (five figures, two in the fair-waits section) inline as data: URIs; no script,
    stylesheet, font or link leaves the file."""
    html, p = page
    assert len(p.imgs) == 7
    for src in p.imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    for tag, attr, value in p.refs:
        assert value.startswith(("data:", "#")), (tag, attr, value[:80])
    lowered = html.lower()
    for bad in ("http://", "https://", "@import", "url(", "<script", "<iframe", "<object"):
        assert bad not in lowered, bad
    assert "<title>" in lowered and "milan" in lowered


def test_sources_and_estimates_are_listed(page):
    """The assumptions table pairs numbers with their comments; estimates are listed."""
    html, _ = page
    assert "romatoday.it" in html  # the hotel rate's source
    assert 'id="estimates"' in html
    assert "<code>arrivals.urgency_mix</code>" in html
    assert "Limits of the model" in html and "warm-up" in html


def test_read_assumptions_pairs_values_with_comments():
    """Trailing and preceding comments become the source; (est.) marks estimates; extends works."""
    items, notes, header = read_assumptions(SCENARIOS / "milan.yaml")
    by = {a.path: a for a in items}
    assert by["costs.hotel_per_person_night"].value == "38.50"
    assert "romatoday.it" in by["costs.hotel_per_person_night"].source
    assert not by["costs.hotel_per_person_night"].estimate
    assert by["units.flats.count"].value == "20" and not by["units.flats.count"].estimate
    assert by["arrivals.urgency_mix"].estimate
    assert by["units.hub_rooms.operating_cost_per_unit_night"].estimate  # "(est. = 300 / 30.4)"
    assert by["pathways.family.share"].value == "0.15"
    assert by["pathways.public_housing.clock"].value == "exit_date"
    assert by["pathways.public_housing.clock"].estimate
    assert "public-housing list" in by["pathways.public_housing.clock"].source
    assert by["warmup_weeks"].value == "52" and by["warmup_weeks"].estimate
    assert "Turin" in notes["pathways"]
    assert "Milan" in header
    variant, _, _ = read_assumptions(SCENARIOS / "milan_more_flats.yaml")
    vby = {a.path: a for a in variant}
    assert vby["units.flats.count"].value == "40"
    assert vby["units.flats.count"].file == "milan_more_flats.yaml"
    assert vby["costs.hotel_per_person_night"].file == "milan.yaml"


def test_write_report_is_atomic(tmp_path, scenario_file):
    """The report replaces the target in one step and leaves no temporary file behind."""
    report = build_report(
        scenario_file, replications=2, seed=1, policies=["fcfs_fast"], sensitivity_replications=0
    )
    out = tmp_path / "r.html"
    out.write_text("old")
    write_report(report, out)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [f.name for f in tmp_path.iterdir()] == ["r.html"]
    assert "not run" in out.read_text(encoding="utf-8")


def test_cell_cuts_intervals_of_non_negative_quantities():
    """A wait's interval is shown from 0, a difference's is not; negative euros read well."""
    assert Cell("x", 2.0, -1.0, 5.0, "days", floor=0.0).interval == "0.0 to 5.0"
    assert Cell("x", 2.0, -1.0, 5.0, "days").interval == "-1.0 to 5.0"
    assert Cell("x", 0.0, 0.0, 0.0, "eur", reference=True).text == "–"
    assert fmt(-7_110_000, "eur") == "−€7.11 M" and fmt(1234.4, "eur") == "€1,234"


@pytest.mark.parametrize(
    "args, expect",
    [
        (["{missing}", "--out", "{out}"], "file not found"),
        (["{bad}", "--out", "{out}"], "arrivals.weekly_rate"),
        (["{scn}", "--out", "{out}", "--replications", "0"], "--replications"),
        (["{scn}", "--out", "{out}", "--policy", "nope"], "unknown policy"),
        (["{scn}", "--out", "{out}", "--sensitivity-policy", "hotel"], "unknown policy"),
        (["{scn}", "--out", "{out}", "--workers", "0"], "--workers"),
        (["{scn}", "--out", "{tmp}/no/such/folder/r.html"], "folder does not exist"),
        (["{scn}", "--out", "{tmp}/r.txt"], ".html"),
        (["{scn}", "--out", "{tmp}"], ".html"),
    ],
)
def test_errors_exit_2_with_one_line_and_no_file(tmp_path, scenario_file, args, expect):
    """Bad input: one line on stderr, exit code 2, and no report (an old one is left as it was)."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(scenario_file.read_text().replace("weekly_rate: 2.885", "weekly_rate: -1"))
    out = tmp_path / "r.html"
    values = {
        "missing": str(tmp_path / "nope.yaml"),
        "bad": str(bad),
        "scn": str(scenario_file),
        "out": str(out),
        "tmp": str(tmp_path),
    }
    res = runner.invoke(app, ["report", *[a.format(**values) for a in args]])
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0], res.stderr
    assert not out.exists()
    assert sorted(f.name for f in tmp_path.iterdir()) == ["bad.yaml"]


def test_negative_seed_and_wrong_sensitivity_policy_are_one_line(scenario_file, tmp_path):
    out = tmp_path / "r.html"
    for extra, named in (
        (["--seed", "-1"], "--seed"),
        (["--sensitivity-policy", "hotel"], "--sensitivity-policy"),
    ):
        res = runner.invoke(app, ["report", str(scenario_file), "--out", str(out), *extra])
        assert res.exit_code == 2, res.output
        assert named in res.output and "Traceback" not in res.output
        assert not out.exists()


def test_a_variant_changing_one_nested_number_shows_only_the_effective_value(tmp_path):
    """A block-style override inside a base's flow mapping replaces that mapping's line."""
    variant = tmp_path / "variant.yaml"
    base = SCENARIOS / "milan.yaml"
    variant.write_text(
        f"extends: {base}\npathways:\n  public_housing:\n    stay:\n"
        "      mean: 400  # (est.) twice as long\n",
        encoding="utf-8",
    )
    items, _, _ = read_assumptions(variant)
    paths = {a.path: a for a in items}
    assert paths["pathways.public_housing.stay.mean"].value == "400"
    assert "pathways.public_housing" not in paths  # the base's whole line with mean 180
    assert load_scenario(variant).pathways["public_housing"].stay.mean == 400


def test_within_noise_needs_both_intervals_to_hold_the_base():
    from allocator.analysis.report import SensitivityRow

    def row(low, high):
        return SensitivityRow("x", "x", "1", "0.75", "1.25", low, high)

    near = Cell("lo", 9.0, 8.0, 10.0, "eur"), Cell("hi", 11.0, 9.5, 12.0, "eur")
    far = Cell("lo", 5.0, 4.0, 6.0, "eur"), Cell("hi", 11.0, 9.5, 12.0, "eur")
    assert row(*near).within_noise(9.8)
    assert not row(*far).within_noise(9.8)
