"""Settings files: a key given twice in YAML or TOML is refused in one line naming the file and
the line; an unquoted YAML or TOML date is read where a date is meant and named where it is not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from allocator import EngineParams, InputError, Policy
from allocator.cli import app
from allocator.simulation import load_scenario

MILAN = Path(__file__).resolve().parents[1] / "scenarios" / "milan.yaml"


def one_line(err: InputError) -> str:
    text = str(err)
    assert "\n" not in text
    return text


# --- YAML ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "lines"),
    [
        ("name: a\nname: b\n", "name", (1, 2)),
        (
            "arrivals:\n  weekly_rate: 1\n  notice_days: 3\n  weekly_rate: 2\n",
            "weekly_rate",
            (2, 4),
        ),
        ("costs:\n  a: 1\nunits: {x: 1, x: 2}\n", "x", (3, 3)),
        ("- {a: 1}\n- a: 1\n  b: 2\n  a: 3\n", "a", (2, 4)),
    ],
)
def test_a_yaml_key_given_twice_is_refused_with_its_lines(tmp_path, text, key, lines) -> None:
    """PyYAML keeps the last of two equal keys without a word; the loader names both lines."""
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as refused:
        load_scenario(path)
    message = one_line(refused.value)
    assert refused.value.source == str(path)
    assert f"key {key!r} is given twice (lines {lines[0]} and {lines[1]})" in message


def test_a_key_given_twice_in_the_milan_scenario_is_caught(tmp_path) -> None:
    """A real scenario with a nested key repeated far below: both lines named."""
    text = MILAN.read_text().replace("arrivals:\n", "arrivals:\n  weekly_rate: 1.0\n", 1)
    path = tmp_path / "milan.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=r"'weekly_rate' is given twice \(lines \d+ and \d+\)"):
        load_scenario(path)


def test_a_variant_with_a_key_twice_is_refused(tmp_path) -> None:
    """The check holds in a file that extends another, and in the file extended."""
    (tmp_path / "base.yaml").write_text(MILAN.read_text())
    variant = tmp_path / "variant.yaml"
    variant.write_text("extends: base.yaml\nname: v\nname: w\n")
    with pytest.raises(InputError, match="'name' is given twice"):
        load_scenario(variant)


def test_yaml_merge_keys_still_override(tmp_path) -> None:
    """``<<`` merges are not repeats: a key may override one merged in."""
    from allocator.simulation.scenario import parse_yaml

    data = parse_yaml("base: &b {a: 1, c: 3}\nx:\n  <<: *b\n  a: 2\n", source="t")
    assert data["x"] == {"a": 2, "c": 3}


def test_bad_yaml_is_one_line_with_its_line(tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: x\nunits: [1, 2\n")
    with pytest.raises(InputError) as refused:
        load_scenario(path)
    assert re.search(r"not valid YAML: .*\(line \d+, column \d+\)", one_line(refused.value))


def _milan_with(tmp_path, pattern: str, repl: str) -> Path:
    text, n = re.subn(pattern, repl, MILAN.read_text(), count=1, flags=re.M)
    assert n == 1
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_an_unquoted_yaml_date_is_a_start(tmp_path) -> None:
    """``start: 2027-01-04`` (a YAML date) is the same scenario as the quoted text."""
    path = _milan_with(tmp_path, r'^start: "2027-01-04"', "start: 2027-01-04")
    assert load_scenario(path) == load_scenario(MILAN)


@pytest.mark.parametrize(
    ("pattern", "repl", "field", "words"),
    [
        (r"^name: .*$", "name: 2027-01-04", "name", "got the date 2027-01-04 (YAML and TOML"),
        (
            r"^horizon_weeks: *\d+",
            "horizon_weeks: 2027-01-04",
            "horizon_weeks",
            "expected a whole number from 1 to 5200, got the date 2027-01-04",
        ),
        (
            r"^  weekly_rate: *[\d.]+",
            "  weekly_rate: 2027-01-04",
            "arrivals.weekly_rate",
            "got the date 2027-01-04",
        ),
    ],
)
def test_an_unquoted_date_where_none_is_meant_says_so(
    tmp_path, pattern, repl, field, words
) -> None:
    path = _milan_with(tmp_path, pattern, repl)
    with pytest.raises(InputError) as refused:
        load_scenario(path)
    assert refused.value.field == field
    assert words in one_line(refused.value)


# --- TOML ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        ("terminal_wait_days = 1\nterminal_wait_days = 2\n", "terminal_wait_days", 2),
        ("[urgency_weights]\n1 = 1.0\n[urgency_weights]\n2 = 3.0\n", "[urgency_weights]", 3),
        ("horizon_weeks = 4\nurgency_weights.1 = 1\nurgency_weights.1 = 2", "urgency_weights.1", 3),
    ],
)
@pytest.mark.parametrize("reader", [Policy.from_file, EngineParams.from_file])
def test_a_toml_key_given_twice_is_refused_with_its_line(tmp_path, reader, text, key, line) -> None:
    """tomllib refuses it; the message is one line with the file, the key and the line, also
    where tomllib says only "at end of document"."""
    path = tmp_path / "settings.toml"
    path.write_text(text)
    with pytest.raises(InputError) as refused:
        reader(path)
    message = one_line(refused.value)
    assert refused.value.source == str(path)
    assert f"{key!r} is given twice (line {line})" in message


def test_the_cli_refuses_a_policy_with_a_key_twice(tmp_path) -> None:
    """Through `allocator plan`: exit 2, one line naming the policy file and the line."""
    policy = tmp_path / "policy.toml"
    policy.write_text("turnover_days = 2\nturnover_days = 3\n")
    (tmp_path / "h.csv").write_text(
        "household_id,size,urgency,need_date,expected_stay_days\nH1,1,3,2026-12-07,10\n"
    )
    (tmp_path / "u.csv").write_text("unit_id,kind,capacity\nU1,flat,2\n")
    out = tmp_path / "plan.csv"
    result = CliRunner().invoke(
        app,
        ["plan", "--households", str(tmp_path / "h.csv"), "--units", str(tmp_path / "u.csv")]
        + ["--start", "2026-12-07", "--out", str(out), "--policy", str(policy)],
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(policy) in lines[0] and "(line 2)" in lines[0]
    assert not out.exists()


def test_a_toml_date_in_a_number_field_says_so(tmp_path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("horizon_weeks = 2026-12-07\n")
    with pytest.raises(InputError) as refused:
        Policy.from_file(path)
    assert refused.value.field == "horizon_weeks"
    assert "expected a whole number from 1 to 104, got the date 2026-12-07" in one_line(
        refused.value
    )


@pytest.mark.parametrize(
    ("reader", "text"),
    [
        (Policy.from_file, "turnover_days = 3\n"),
        (EngineParams.from_file, "idle_rounds_before_removal = 7\n"),
    ],
)
def test_a_toml_file_saved_with_a_byte_order_mark_reads_as_without(tmp_path, reader, text) -> None:
    """Windows' Notepad starts UTF-8 files with a byte-order mark; the settings read the same."""
    plain, marked = tmp_path / "plain.toml", tmp_path / "marked.toml"
    plain.write_text(text, encoding="utf-8")
    marked.write_text(text, encoding="utf-8-sig")
    assert marked.read_bytes().startswith(b"\xef\xbb\xbf")
    assert reader(marked) == reader(plain)
