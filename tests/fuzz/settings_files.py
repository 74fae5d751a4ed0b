"""Hypothesis strategies for the settings files: policies (TOML) from `Policy()`'s defaults and
scenarios (YAML) from the small example and Milan's, shrunk to four weeks.

Three kinds of case: "mild" changes one number to a plausible one (the file may well stay valid
and the engine or the simulation runs on it), "extreme" sets one number to NaN, infinity, 1e300,
2**63 - 1 and the like, "harsh" changes, removes, renames or adds one or two fields with values
of any type and may damage the text (a duplicate key, a BOM, CRLF, tabs, truncation, junk, another
encoding). What the program must refuse (a duplicate key, a number out of any range) is worked
out from the final content.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st
from strategies import HUGE, _byte_op, _short

REPO = Path(__file__).resolve().parents[2]

# --- both kinds ----------------------------------------------------------------------------------

ODD_NUMBERS = [
    2**63 - 1, -(2**63), 2**62, 2**53 + 1, 10**18, -1, 0, 1, 2, 60, 61, 104, 105, 548, 549,
    100_000, math.nan, math.inf, -math.inf, 1e300, 1e-300, -0.0, 1e18, 5e-324, 1e308, 0.5, 2.5,
]  # fmt: skip
ODD_OTHERS = [True, False, "", "26", "x", [], [1, 2], {}, {"a": 1}, dt.date(2026, 12, 7)]


@dataclass
class Settings:
    """A settings file (policy TOML, scenario YAML) as data, then the text damage to apply."""

    data: Any
    labels: list[str] = field(default_factory=list)
    text_ops: list[tuple[str, Any]] = field(default_factory=list)
    byte_ops: list[tuple[str, Any]] = field(default_factory=list)
    encoding: str = "utf-8"
    lossy: bool = False

    def __repr__(self) -> str:
        return f"Settings(labels={self.labels!r})"

    def must_reject(self) -> list[str]:
        if self.lossy:
            return []
        reasons = ["a duplicate key" for op, _ in self.text_ops if op == "duplicate_key"]
        for path in _paths(self.data):
            value = _get(self.data, path)
            if isinstance(value, int | float) and not isinstance(value, bool):
                if not math.isfinite(value) or abs(value) > HUGE:
                    reasons.append(f"{'.'.join(map(str, path))} = {value!r}, out of any range")
        return reasons


def policy_base(variant: int) -> dict[str, Any]:
    from allocator.policy import Policy

    data = Policy().model_dump(mode="json", exclude_none=True)
    if variant == 1:  # the optional caps set, so their checks and the engine's use of them run
        data.update(support_capacity=12, mediation_capacity=2)
        data["mediation_capacity_by_language"] = {"arabic": 1}
    return data


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path in nested mappings (and list items), parents before children."""
    out: list[tuple] = []
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else []
    )
    for k, v in items:
        out.append((*prefix, k))
        out.extend(_paths(v, (*prefix, k)))
    return out


def _get_parent(data: Any, path: tuple) -> Any:
    node = data
    for k in path[:-1]:
        node = node[k]
    return node


@st.composite
def _settings_mutation(draw, s: Settings, odd_values: st.SearchStrategy[Any]) -> str:
    paths = _paths(s.data)
    op = draw(st.sampled_from(["set", "set", "set", "delete", "unknown", "retype_key"]))
    if not paths:
        op = "unknown"
    if op == "unknown":
        parent = draw(
            st.sampled_from([(), *[p for p in paths if isinstance(_get(s.data, p), dict)]])
        )
        node = _get(s.data, parent) if parent else s.data
        name = draw(st.sampled_from(["unknown_field", "Horizon_Weeks", "6", "0", "extends", " "]))
        node[name] = copy.deepcopy(draw(odd_values))  # never a list or dict shared by cases
        return f"added {'.'.join(map(str, (*parent, name)))}"
    path = draw(st.sampled_from(paths))
    parent = _get_parent(s.data, path)
    where = ".".join(map(str, path))
    if op == "delete":
        if isinstance(parent, list):
            parent.pop(path[-1])
        else:
            del parent[path[-1]]
        return f"removed {where}"
    if op == "retype_key" and isinstance(parent, dict):
        value = parent.pop(path[-1])
        new = draw(st.sampled_from([str(path[-1]).upper(), f" {path[-1]}", f"{path[-1]}.0", "-1"]))
        parent[new] = value
        return f"key {where} -> {new!r}"
    value = copy.deepcopy(draw(odd_values))
    parent[path[-1]] = value
    return f"{where} = {_short(value)}"


EXTREMES = [1e300, 1e18, 2**63 - 1, 2**62, math.nan, math.inf, -math.inf, 1e-300, 5e-324,
            1e15, 1e12, 1e9, 1e6, -1, 0, -0.0]  # fmt: skip


@st.composite
def _mild_number(draw, s: Settings, values: st.SearchStrategy[Any], keep_type: bool = True) -> str:
    """One number of the file changed to another number: the file may well stay valid."""
    leaves = [p for p in _paths(s.data) if type(_get(s.data, p)) in (int, float)]
    # not a share of a mix (they must sum to 1): a count, a rate, a cost, a weight
    leaves = [
        p for p in leaves if not any("mix" in str(k) or k in ("share", "seasonality") for k in p)
    ]
    path = draw(st.sampled_from(leaves))
    value = draw(values)
    if keep_type and isinstance(_get(s.data, path), int) and isinstance(value, float):
        value = round(value)
    _get_parent(s.data, path)[path[-1]] = value
    return f"number {'.'.join(map(str, path))} = {value!r}"


def _get(data: Any, path: tuple) -> Any:
    for k in path:
        data = data[k]
    return data


SETTINGS_TEXT_OPS = ["duplicate_key", "bom", "crlf", "tabs", "truncate", "junk", "comment_junk"]


@st.composite
def _settings_damage(draw, s: Settings) -> None:
    if draw(st.integers(0, 19)) < 5:
        op = draw(st.sampled_from(SETTINGS_TEXT_OPS))
        arg = draw(st.floats(0, 1))
        s.text_ops.append((op, arg))
        s.labels.append(f"text {op}")
        s.lossy |= op in ("truncate", "junk")
    if draw(st.integers(0, 19)) < 1:
        s.encoding = draw(st.sampled_from(["utf-16", "latin-1", "utf-8-sig"]))
        s.labels.append(f"encoding {s.encoding}")
        s.lossy = True


@st.composite
def policies(draw, mutate: bool = True) -> Settings:
    """A policy as TOML data from `Policy()`'s defaults, with odd values and damage."""
    variant = draw(st.integers(0, 1))
    s = Settings(policy_base(variant), labels=[f"policy variant {variant}"])
    if not mutate:
        return s
    mode = draw(st.sampled_from(["mild", "extreme", "harsh"]))
    if mode == "mild":  # one number changed, to one a policy may well hold
        values = st.one_of(st.integers(0, 200), st.floats(0, 1e4),
                           st.sampled_from([1e-9, 1e-6, 1e6, 1e9, 1e12]))  # fmt: skip
        s.labels.append(draw(_mild_number(s, values)))
        return s
    if mode == "extreme":  # one number at an extreme, the rest valid: the solver's numerics
        s.labels.append(draw(_mild_number(s, st.sampled_from(EXTREMES), keep_type=False)))
        return s
    odd = st.one_of(st.sampled_from(ODD_NUMBERS), st.sampled_from(ODD_OTHERS),
                    st.integers(), st.floats())  # fmt: skip
    for _ in range(draw(st.integers(1, 2))):
        s.labels.append(draw(_settings_mutation(s, odd)))
    draw(_settings_damage(s))
    return s


def _toml_key(key: Any) -> str:
    key = str(key)
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if value is None:
        return '""'
    raise TypeError(type(value))


def toml_text(data: dict[str, Any]) -> str:
    """Scalars first, then one [table] per mapping: how a person writes a policy file."""
    lines = [
        f"{_toml_key(k)} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)
    ]
    for k, v in data.items():
        if isinstance(v, dict):
            lines += ["", f"[{_toml_key(k)}]"]
            lines += [f"{_toml_key(kk)} = {_toml_value(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"


def _settings_text_op(text: str, op: str, where: float) -> str:
    lines = text.split("\n")
    # a "key: value" or "key = value" line; not a list item, a [table] or a comment
    keyed = [k for k, line in enumerate(lines) if re.match(r"^\s*[^#\s\[\-][^:=]*[:=]", line)]
    if op == "duplicate_key" and keyed:
        k = keyed[min(int(where * len(keyed)), len(keyed) - 1)]
        lines.insert(k + 1, lines[k])  # the same key again, just below
        return "\n".join(lines)
    pos = int(where * len(text))
    if op == "bom":
        return "\ufeff" + text
    if op == "crlf":
        return text.replace("\n", "\r\n")
    if op == "tabs":
        return re.sub(r"^( +)", lambda m: "\t" * (len(m.group(1)) // 2), text, flags=re.M)
    if op == "truncate":
        return text[:pos]
    if op == "junk":
        return text[:pos] + "\x00\x81junk: [" + text[pos:]
    if op == "comment_junk":
        return "# caf\u00e9 \U0001f3e0 \u200b\n" + text
    return text


def render_policy(s: Settings) -> bytes:
    text = toml_text(s.data)
    for op, where in s.text_ops:
        text = _settings_text_op(text, op, where)
    data = text.encode(s.encoding, errors="replace")
    for op in s.byte_ops:
        data = _byte_op(data, op)
    return data


# --- scenario files (YAML) -------------------------------------------------------------------

SCENARIO_BASES = ("small", "explicit", "milan", "milan-variant")
# the runs stay short: few weeks; the simulate test also asks for 1 replication and greedy
WEEKS = 4


@functools.cache
def _milan() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "scenarios" / "milan.yaml").read_text(encoding="utf-8"))
    data["horizon_weeks"] = WEEKS
    data["policy"]["horizon_weeks"] = 4
    return data


def scenario_base(base: str) -> dict[str, Any]:
    from allocator.simulation.examples import small

    if base == "small":
        return small(horizon_weeks=WEEKS)
    if base == "explicit":
        units = {"explicit": [
            {"unit_id": "R1", "kind": "hub_room", "capacity": 2},
            {"unit_id": "F1", "kind": "flat", "capacity": 4, "accessible": True,
             "operating_cost_per_unit_night": 20.0},
        ]}  # fmt: skip
        return small(horizon_weeks=WEEKS, units=units, start="2027-03-01")
    if base == "milan":
        return copy.deepcopy(_milan())
    # a variant: `extends` the Milan file (written beside it as milan.yaml) and changes one field
    return {"extends": "milan.yaml", "name": "milan_variant", "units": {"flats": {"count": 10}}}


ODD_YAML = [
    -1, 0, 1, 2, 0.5, 3.5, math.nan, math.inf, -math.inf, 1e300, 2**63, 2**64, 1e18, 1e6,
    "3", "", "x", True, None, [], [1], {}, {"a": 1}, dt.date(2027, 1, 4), "2027-01-04",
    "04/01/2027", "1e3", "0x10", "x" * 10_000,
]  # fmt: skip


@st.composite
def scenarios(draw, base: str | None = None, mutate: bool = True) -> Settings:
    """A scenario mapping from a valid base, with odd values, missing or unknown fields, and
    YAML text damage (duplicate keys, unquoted dates, tabs, BOM, truncation, junk)."""
    base = base or draw(st.sampled_from(SCENARIO_BASES))
    s = Settings(scenario_base(base), labels=[f"scenario {base}"])
    mode = draw(st.sampled_from(["mild", "mild", "extreme", "harsh", "harsh"])) if mutate else None
    if mode == "mild":
        s.labels.append(draw(_mild_number(s, st.one_of(st.integers(0, 20), st.floats(0, 50)))))
    elif mode == "extreme":
        s.labels.append(draw(_mild_number(s, st.sampled_from(EXTREMES), keep_type=False)))
    elif mode == "harsh":
        odd = st.one_of(st.sampled_from(ODD_YAML), st.integers(-10, 10), st.floats())
        for _ in range(draw(st.integers(1, 3))):
            s.labels.append(draw(_settings_mutation(s, odd)))
        if draw(st.integers(0, 9)) < 2:
            s.text_ops.append(("unquoted_date", 0.0))
            s.labels.append("text unquoted dates")
        draw(_settings_damage(s))
    return s


def yaml_text(data: Any) -> str:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    return text


def render_scenario(s: Settings) -> bytes:
    text = yaml_text(s.data)
    for op, where in s.text_ops:
        if op == "unquoted_date":
            text = re.sub(r"'(\d{4}-\d{2}-\d{2})'", r"\1", text)
        else:
            text = _settings_text_op(text, op, where)
    data = text.encode(s.encoding, errors="replace")
    for op in s.byte_ops:
        data = _byte_op(data, op)
    return data
