"""Numbers and dates a user gives: the ranges the engine handles exactly, and refusals that say so.

Numeric ranges
--------------
The solvers (GLOP, HiGHS) work in float64 with tolerances of about 1e-6 relative and 1e-9 to 1e-7
absolute (feasibility, reduced costs, the gap tests of `engine/optimiser/outcome.py`). A reduced
cost is a difference of numbers as large as the objective's largest coefficient, so it carries a
rounding error of about 2.2e-16 times that coefficient: at 1e9 the error is 2e-7, the order of
the solvers' absolute tolerance, and beyond it the solvers' pivoting and pricing decisions are
noise. At the other end, a plan's objective below about 1e-3 is swallowed by the absolute
tolerances (1e-6 in the gap tests). Runs that scale every weight by a common factor, which
should not change the plan, confirm both ends (docs/engine.md, "Numeric ranges"). Hence:

- every coefficient of the objective stays at most `MAX_COEFFICIENT` = 1e9, ten times inside
  the largest seen exact; the largest is a household left unplaced, urgency weight x
  size x (horizon + terminal wait) x `pin_weight` when pinned, checked on the instance itself
  (`allocator.engine.instance.check_coefficients`), since it depends on the households;
- urgency weights lie in [1e-3, 1e4]: one person-night is never below the absolute tolerances,
  and 30 persons x 728 days of waiting stay below 1e9;
- the tie-breaking weights (wasted bed-nights, kind mismatch) are 0 or in [1e-6, 1e3]: a positive
  weight below 1e-6 would be noise to the solvers, and 1e3 x 29 empty beds x 3650 nights stays
  below 1e9;
- day counts (terminal wait, stays, the maximum stay) are at most `MAX_DAYS` = 3650, ten years:
  a few times the longest horizon (104 weeks), exact as int64 and float64 in every product;
- counts of people and of capacity per day at most `MAX_COUNT` = 10^6.

Date windows
------------
A date a user gives must lie within `WINDOW_YEARS` = 10 years of its anchor: a table's dates
(need dates, availability, stays) within 10 years of the plan's start; a date given to the
command line or the ledger (``--start``, ``--week``, move-in, exit and extension dates, and the
dates of the tables the ledger imports) within 10 years of today. A typo (2062 for 2026) is
refused with the window named, instead of a plan of a horizon nobody meant. Whatever the anchor,
every date a record holds and the start `plan` takes lie from 1900-01-01 to 2199-12-31, far from
the calendar's ends (0001-01-01 and 9999-12-31 overflow Python's and numpy's day arithmetic) and
wide enough for back-testing and for the simulation's longest run (5200 weeks from a start
within 10 years of today). Records a Python caller builds itself (lists of `Household`, `Unit`,
`Stay`, as the simulation passes them week after week, where a household may wait for years) are
held to that absolute range only.
"""

from __future__ import annotations

import datetime as dt
import math
import types
import typing
from typing import Any, get_args, get_origin

import annotated_types
from pydantic import BaseModel

from allocator.errors import _N, InputError, Message, pydantic_message

# --- numbers -------------------------------------------------------------------------------------

MAX_COEFFICIENT = 1e9
URGENCY_WEIGHT_RANGE = (1e-3, 1e4)
MIN_TIE_WEIGHT = 1e-6
MAX_TIE_WEIGHT = 1e3
PIN_WEIGHT_RANGE = (1e-3, 1e6)
MAX_DAYS = 3650
MAX_COUNT = 10**6
MAX_LOAD = 1000
MAX_NIGHTLY_COST = 1e6  # euros per night: a unit, a hotel person-night
MAX_UNIT_COST = 1e9  # euros per unit: a renovation

# options (command line and `plan`'s keywords)
MAX_TIME_LIMIT = 7 * 24 * 3600.0  # a week of seconds: far beyond any weekly plan
MAX_WORKERS = 1024
MAX_REPLICATIONS = 100_000
MAX_SOLVER_SEED = 2**31 - 1
MAX_SEED = 2**63 - 1  # numpy's SeedSequence takes any size; this keeps it a 64-bit integer


def number(value: float) -> str:
    """A bound or a value as the messages print it: ``1000``, ``0.001``, ``1e+09``."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:g}"


def range_text(
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
) -> str:
    """``from 0 to 1000``, ``above 0 and at most 1``, ``of at least 1``: the range an error names."""
    if lo is not None and hi is not None:
        template = {
            (False, False): _N("from {lo} to {hi}"),
            (False, True): _N("from {lo} to below {hi}"),
            (True, False): _N("above {lo} and at most {hi}"),
            (True, True): _N("above {lo} and below {hi}"),
        }[(lo_open, hi_open)]
        return Message(template, lo=number(lo), hi=number(hi))
    if lo is not None:
        return Message(_N("above {lo}") if lo_open else _N("of at least {lo}"), lo=number(lo))
    if hi is not None:
        return Message(_N("below {hi}") if hi_open else _N("of at most {hi}"), hi=number(hi))
    return Message("")


def check_number(
    value: object,
    option: str,
    lo: float,
    hi: float,
    *,
    whole: bool = False,
    lo_open: bool = False,
    hi_open: bool = False,
) -> None:
    """A number given as an option or keyword: finite, within [lo, hi]; `InputError` naming it."""
    kind = "a whole number" if whole else "a finite number"
    expected = f"expected {kind} {range_text(lo, hi, lo_open=lo_open, hi_open=hi_open)}"
    ok_type = isinstance(value, int) if whole else isinstance(value, int | float)
    if isinstance(value, bool) or not ok_type:
        raise InputError(f"{expected}, got {value!r}", source=option)
    v = typing.cast(float, value)
    if not math.isfinite(v) or (v <= lo if lo_open else v < lo) or (v >= hi if hi_open else v > hi):
        raise InputError(f"{expected}, got {number(v)}", source=option)


def tie_weight(value: float) -> float:
    """A tie-breaking weight: 0, or from `MIN_TIE_WEIGHT` to `MAX_TIE_WEIGHT` (pydantic validator)."""
    if not (value == 0 or MIN_TIE_WEIGHT <= value <= MAX_TIE_WEIGHT):
        raise ValueError(
            Message(
                _N(
                    "expected 0 or a number {range}, got {value} (a smaller weight is below the "
                    "solvers' tolerance)"
                ),
                range=range_text(MIN_TIE_WEIGHT, MAX_TIE_WEIGHT),
                value=number(value),
            )
        )
    return value


# --- pydantic's errors as one line naming the range ----------------------------------------------

_NUMERIC_ERRORS = frozenset(
    {
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "finite_number",
        "float_parsing",
        "float_type",
        "int_parsing",
        "int_type",
        "int_from_float",
        "int_parsing_size",
        "date_parsing",
        "date_from_datetime_parsing",
        "date_type",
    }
)


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The type under ``Annotated`` and ``X | None``, and the constraints met on the way."""
    metadata: list[Any] = []
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            base, *extra = get_args(annotation)
            for m in extra:
                metadata.extend(getattr(m, "metadata", [m]))
            annotation = base
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation, metadata
            annotation = args[0]
        else:
            return annotation, metadata


def _constraints_at(model: type[BaseModel], loc: tuple) -> tuple[Any, list[Any]] | None:
    """The type and the constraints of the value at ``loc`` (a pydantic error's location)."""
    annotation: Any = model
    metadata: list[Any] = []
    for part in loc:
        if isinstance(part, str) and "[" in part:  # a validator's name pydantic inserts
            continue
        annotation, _ = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(str(part))
            if info is None:
                return None
            annotation, metadata = info.annotation, list(info.metadata)
            continue
        origin = get_origin(annotation)
        args = get_args(annotation)
        if origin is dict and len(args) == 2:
            annotation, metadata = args[1], []
        elif origin in (list, tuple, set, frozenset) and args:
            annotation, metadata = args[0], []
        else:
            return None
    base, more = _unwrap(annotation)
    return base, metadata + more


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in metadata:
        for name in ("gt", "ge", "lt", "le"):
            bound = getattr(m, name, None)
            if bound is not None and isinstance(m, annotated_types.BaseMetadata):
                out[name] = bound
    return out


def expected_range(model: type[BaseModel], loc: tuple) -> Message | None:
    """``a whole number from 1 to 30``: what the field at ``loc`` takes, or None if not a number."""
    found = _constraints_at(model, loc)
    if found is None:
        return None
    base, metadata = found
    b = _bounds(metadata)
    if base is dt.date and ("ge" in b and "le" in b):
        return Message(_N("a date from {first} to {last}"), first=b["ge"], last=b["le"])
    if base not in (int, float):
        return None
    lo = b.get("gt", b.get("ge"))
    hi = b.get("lt", b.get("le"))
    text = range_text(lo, hi, lo_open="gt" in b, hi_open="lt" in b)
    if not text:
        return Message(_N("a whole number") if base is int else _N("a finite number"))
    kind = _N("a whole number {range}") if base is int else _N("a finite number {range}")
    return Message(kind, range=text)


def _shown(value: object) -> str:
    if isinstance(value, float | int) and not isinstance(value, bool):
        return number(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return repr(value)


_BOUND_ERRORS = {
    "finite_number",
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
}


def describe_error(model: type[BaseModel], err: Any) -> str:
    """One line for pydantic's first error: what was expected (a numeric field's whole range)
    and what was given. A date where none is expected says that YAML and TOML read an unquoted
    YYYY-MM-DD as a date."""
    given = err.get("input")
    kind = err["type"]
    if kind == "value_error" and "error" in err.get("ctx", {}):
        return pydantic_message(err)
    if isinstance(given, dt.date) and kind not in ("value_error", "assertion_error"):
        found = _constraints_at(model, tuple(err["loc"]))
        if found is not None and found[0] is str:
            return Message(
                _N(
                    "expected text, got the date {date} (YAML and TOML read an unquoted "
                    "YYYY-MM-DD as a date: quote it)"
                ),
                date=given.isoformat(),
            )
        what = expected_range(model, tuple(err["loc"])) or err["msg"].removeprefix(
            "Input should be "
        )
        return Message(
            _N("expected {what}, got the date {date}"), what=what, date=given.isoformat()
        )
    if kind in _NUMERIC_ERRORS:
        what = expected_range(model, tuple(err["loc"]))
        if what:
            # a bound broken: the range says it all; a wrong type: pydantic's words say which
            if kind in _BOUND_ERRORS:
                return Message(_N("expected {what}, got {value}"), what=what, value=_shown(given))
            return Message(
                _N("{said}; expected {what}, got {value}"),
                said=pydantic_message(err),
                what=what,
                value=_shown(given),
            )
    if kind == "extra_forbidden":
        return Message(_N("unknown field"))
    said = pydantic_message(err)
    return said if not said.startswith("Value error, ") else said.removeprefix("Value error, ")


def with_range(detail: str, model: type[BaseModel], err: Any) -> str:
    """pydantic's words for a bad number or date in a table's cell, with the column's whole range
    added (the error's location starts with the row's position in the list)."""
    if err["type"] not in _NUMERIC_ERRORS:
        return detail
    loc = tuple(err["loc"])
    while loc and isinstance(loc[0], int):
        loc = loc[1:]
    what = expected_range(model, loc)
    if what and "expected" not in detail:
        return Message(_N("{detail}; expected {what}"), detail=detail, what=what)
    return detail


def field_of(err: Any) -> str | None:
    """A pydantic error's location as a dotted field, without the parts pydantic inserts."""
    loc = [str(p) for p in err["loc"]]
    loc = [p for p in loc if "[" not in p]
    return ".".join(loc) or None


# --- dates ---------------------------------------------------------------------------------------

WINDOW_YEARS = 10
# every date a record holds, and a plan's start: far from the calendar's ends (0001-01-01 and
# 9999-12-31 overflow day arithmetic), wide enough for back-testing and for the simulation's
# longest run (5200 weeks from a start within 10 years of today)
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2199, 12, 31)


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (or earlier); 29 February becomes the 28th."""
    year = min(max(day.year + years, dt.MINYEAR), dt.MAXYEAR)
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def window(anchor: dt.date, before: int = WINDOW_YEARS, after: int = WINDOW_YEARS):
    """The dates from ``before`` years before ``anchor`` to ``after`` years after it."""
    return add_years(anchor, -before), add_years(anchor, after)


def check_date(
    day: dt.date,
    anchor: dt.date,
    *,
    anchor_name: str = _N("today"),
    before: int = WINDOW_YEARS,
    after: int = WINDOW_YEARS,
    source: str | None = None,
    row: int | str | None = None,
    column: str | None = None,
    field: str | None = None,
) -> dt.date:
    """``day`` itself if within the window around ``anchor``; an `InputError` naming it if not."""
    lo, hi = window(anchor, before, after)
    if not lo <= day <= hi:
        span = (
            Message(_N("{years} years"), years=before)
            if before == after
            else Message(_N("{before} years before to {after} after"), before=before, after=after)
        )
        raise InputError(
            _N(
                "{day} is outside the window of {span} around {anchor_name} ({anchor}): "
                "expected a date from {first} to {last}"
            ),
            day=day,
            span=span,
            anchor_name=Message(anchor_name),
            anchor=anchor,
            first=lo,
            last=hi,
            source=source,
            row=row,
            column=column,
            field=field,
        )
    return day


def parse_date(value: object, *, source: str | None = None, field: str | None = None) -> dt.date:
    """An ISO date (``2026-12-07``) from a date or text, spaces around it allowed; an
    `InputError` naming the option or field otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        if not isinstance(value, str):
            raise ValueError
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(
            _N("expected an ISO date like 2026-12-07, got {value!r}"),
            value=value,
            source=source,
            field=field,
        ) from None


def user_date(
    value: object,
    *,
    source: str | None = None,
    field: str | None = None,
    today: dt.date | None = None,
) -> dt.date:
    """A date a user gives the command line or the ledger: parsed, within 10 years of today."""
    day = parse_date(value, source=source, field=field)
    return check_date(day, today or dt.date.today(), source=source, field=field)
