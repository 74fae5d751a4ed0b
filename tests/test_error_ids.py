"""Errors as message ids: every id marked with ``_N`` in the package has its Italian with the same
placeholders, and an error rendered from its id and parameters is byte for byte the English line
the CLI prints (so the console's English and the CLI's never differ)."""

from __future__ import annotations

import datetime as dt
import io
import pickle
import string
from functools import cache
from gettext import NullTranslations
from pathlib import Path

import pandas as pd
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import PydanticKnownError

import allocator
from allocator.domain import Household
from allocator.errors import (
    _N,
    PYDANTIC_MESSAGES,
    InputError,
    Message,
    error_message,
    pydantic_message,
    renamed,
)
from allocator.ledger import Ledger
from allocator.policy import validate_policy
from allocator.tables import Source, parse_records, read_day_first_dates, validate_tables

PACKAGE = Path(allocator.__file__).parent
LOCALE = PACKAGE / "web" / "locale"
ENGLISH = (
    NullTranslations().gettext
)  # the ids themselves: what a language without a catalogue shows


@cache
def _extracted() -> frozenset[str]:
    """The message ids, by Babel's own extractor over the whole package (keyword ``_N``)."""
    config = (LOCALE / "errors.cfg").read_text(encoding="utf-8")
    method_map, options_map = parse_mapping_cfg(io.StringIO(config))
    found = extract_from_dir(str(PACKAGE), method_map, options_map, keywords={"_N": None})
    return frozenset(message for _file, _line, message, _comments, _context in found if message)


def _catalogue(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def _fields(text: str) -> set[tuple[str, str | None]]:
    """The ``{name!conversion}`` placeholders of a template."""
    return {(f, c) for _lit, f, _spec, c in string.Formatter().parse(text) if f is not None}


def test_extraction_finds_the_ids_of_every_layer():
    """The extractor sees ids in tables, rules, the ledger, the policy and the console."""
    ids = _extracted()
    assert "required column is missing" in ids  # tables
    assert "no overlap (incl. {days} turnover days)" in ids  # rules
    assert "unknown household {household!r}" in ids  # ledger, console
    assert "urgency runs from 1 to 5; unexpected {unknown}" in ids  # policy
    assert "this is the last active administrator: keep at least one" in ids  # accounts
    assert "Field required" in ids  # pydantic's types
    assert len(ids) > 150


def test_every_id_has_an_italian_translation_with_its_placeholders():
    """Each extracted id is in errors.po, translated (not fuzzy), naming the same placeholders."""
    italian = _catalogue(LOCALE / "it" / "LC_MESSAGES" / "errors.po")
    missing, broken = [], []
    for msgid in sorted(_extracted()):
        entry = italian.get(msgid)
        if entry is None or entry.fuzzy or not entry.string:
            missing.append(msgid)
        elif _fields(entry.string) != _fields(msgid):
            broken.append(msgid)
    assert missing == [], f"add these to it/LC_MESSAGES/errors.po: {missing}"
    assert broken == [], f"placeholders differ from the id's: {broken}"


def test_the_template_lists_the_extracted_ids():
    """errors.pot is the extraction of today's code (docs/console.md has the command)."""
    template = {m.id for m in _catalogue(LOCALE / "errors.pot") if m.id}
    assert template == _extracted()


@pytest.mark.parametrize("kind", sorted(PYDANTIC_MESSAGES))
def test_pydantic_ids_are_pydantics_own_templates(kind):
    """Each pydantic error type's id renders as pydantic's own English, so the English is unchanged."""
    ctx = {
        "ge": 2,
        "gt": 2,
        "le": 2,
        "lt": 2,
        "min_length": 2,
        "max_length": 2,
        "pattern": "x",
        "expected": "'a' or 'b'",
        "error": "input is too short",
        "class_name": "Policy",
    }
    try:
        known = PydanticKnownError(kind, ctx)
    except (TypeError, KeyError):
        known = PydanticKnownError(kind)
    template = PYDANTIC_MESSAGES[kind]
    params = {k: v for k, v in ctx.items() if "{" + k + "}" in template}
    assert Message(template, **params) == known.message()


# --- the English is what it was -------------------------------------------------------------

HEADER = "household_id,size,minors,urgency,need_date,expected_stay_days,expected_exit_date,support"
GOOD = "H1,2,0,3,2026-12-01,90,,medium"
BAD_ROWS = {
    "wrong enum": "H2,2,0,3,2026-12-01,90,,urgent",
    "bad date": "H2,2,0,3,2026-13-01,90,,low",
    "no such day": "H2,2,0,3,31/02/2026,90,,low",
    "excel serial": "H2,2,0,3,46000,90,,low",
    "both stay clocks": "H2,2,0,3,2026-12-01,90,2027-01-01,low",
    "neither stay clock": "H2,2,0,3,2026-12-01,,,low",
    "exit before need": "H2,2,0,3,2026-12-01,,2026-11-01,low",
    "minors above size": "H2,2,3,3,2026-12-01,90,,low",
    "urgency above 5": "H2,2,0,9,2026-12-01,90,,low",
    "size not a number": "H2,two,0,3,2026-12-01,90,,low",
    "size with decimals": "H2,2.5,0,3,2026-12-01,90,,low",
    "bad id": "H 2,2,0,3,2026-12-01,90,,low",
    "duplicate id": "H1,2,0,3,2026-12-01,90,,low",
    "far date": "H2,2,0,3,2062-12-01,90,,low",
}


def _requests_error(csv: str, tmp_path) -> InputError:
    path = tmp_path / "requests.csv"
    path.write_text(csv, encoding="utf-8")
    from allocator.ledger.imports import read_records

    with pytest.raises(InputError) as caught:
        read_records(path, "households", today=dt.date(2026, 12, 7))
    return caught.value


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_bad_upload_rows_render_their_english_from_the_id(case, tmp_path):
    """A bad row's error, rendered from its id and parameters, is its English line exactly."""
    error = _requests_error(f"{HEADER}\n{GOOD}\n{BAD_ROWS[case]}\n", tmp_path)
    assert error.row == 3
    assert isinstance(error.message, Message) and error.message.id != str(error.message)
    assert error.translated(ENGLISH) == str(error)
    assert error.message.translated(ENGLISH) == error.message


def test_missing_column_and_unknown_column_render_their_english(tmp_path):
    """The header's errors (a required column missing, an unknown one) too."""
    missing = _requests_error("household_id,size\nH1,2\n", tmp_path)
    unknown = _requests_error(f"{HEADER},colour\n{GOOD},red\n", tmp_path)
    for error in (missing, unknown):
        assert error.row == 1
        assert error.translated(ENGLISH) == str(error)
    assert str(missing).endswith("column 'urgency': required column is missing")


def test_table_and_rule_errors_render_their_english():
    """Errors of the stays table (unknown unit, capacity, overlap) and of slashed dates."""
    households = pd.DataFrame([{"household_id": "W", "size": 2, "urgency": 1,
                                "need_date": "2026-12-01", "expected_stay_days": 9}])  # fmt: skip
    units = pd.DataFrame([{"unit_id": "U1", "kind": "flat", "capacity": 2}])
    stays = [
        [{"household_id": "A", "unit_id": "U9", "start": "2026-12-01", "expected_end": "2027-01-01"}],
        [{"household_id": "A", "unit_id": "U1", "start": "2026-12-01", "expected_end": "2027-01-01",
          "size": 5}],
        [{"household_id": "A", "unit_id": "U1", "start": "2026-12-01", "expected_end": "2027-01-01"},
         {"household_id": "B", "unit_id": "U1", "start": "2026-12-20", "expected_end": "2027-02-01"}],
        [{"household_id": "W", "unit_id": "U1", "start": "2026-12-01", "expected_end": "2027-01-01"}],
    ]  # fmt: skip
    errors = []
    for table in stays:
        with pytest.raises(InputError) as caught:
            validate_tables(households, units, pd.DataFrame(table), turnover_days=3)
        errors.append(caught.value)
    frame = pd.DataFrame({"need_date": ["07/12/2026", "08/11/2026"]})
    with pytest.raises(InputError) as caught:
        read_day_first_dates(frame, "households", Source("h.csv", from_file=True))
    errors.append(caught.value)
    assert "rule 'no overlap (incl. 3 turnover days)'" in str(errors[2])
    for error in errors:
        assert error.translated(ENGLISH) == str(error)


def test_ledger_and_policy_errors_render_their_english(tmp_path):
    """The ledger's refusals (unknown household, a rule with the stay named) and a policy's."""
    errors = []
    with Ledger.open(tmp_path / "l.db", create=True) as ledger:
        with pytest.raises(InputError) as caught:
            ledger.exit("NOBODY", dt.date.today(), "other")
        errors.append(caught.value)
        with pytest.raises(InputError) as caught:
            ledger.withdraw_request("NOBODY", "moved away")
        errors.append(caught.value)
        with pytest.raises(InputError) as caught:
            ledger.approve()
        errors.append(caught.value)
    for data in ({"horizon_weeks": 0}, {"urgency_weights": {1: 1.0}}, {"colour": 1},
                 {"wasted_bed_night_weight": 1e-9}):  # fmt: skip
        with pytest.raises(InputError) as caught:
            validate_policy(data)
        errors.append(caught.value)
    assert str(errors[0]) == "field 'household_id': unknown household 'NOBODY'"
    for error in errors:
        assert error.translated(ENGLISH) == str(error)


def test_message_api_keeps_the_english_and_the_id():
    """``InputError(id, **params)``: ``.message`` and ``str`` are the English; the id and the
    parameters survive pickling and a renamed file; a translation that drops a placeholder
    falls back to the English rather than failing."""
    error = InputError(
        _N("unknown unit {unit!r}"), unit="U/1", source="/tmp/x.csv", row=4, column="unit_id"
    )
    assert error.message == "unknown unit 'U/1'"
    assert str(error) == "/tmp/x.csv, row 4, column 'unit_id': unknown unit 'U/1'"
    assert str(InputError("plain {text}")) == "plain {text}"  # no parameters: never formatted
    line = pickle.loads(pickle.dumps(error_message(error)))
    assert line == str(error) and line.translated(ENGLISH) == str(error)
    moved = renamed(Message("in {file}", file="/tmp/x.csv"), "/tmp/x.csv", "units.csv")
    assert moved == "in units.csv" and moved.params == {"file": "units.csv"}
    assert error.message.translated(lambda _id: "unità {sconosciuta}") == error.message


def test_unknown_pydantic_type_keeps_its_english_under_the_generic_id():
    """A type without an id of its own: pydantic's English, and an id that names the field."""
    err = {"type": "json_invalid", "loc": (0, "size"), "msg": "Invalid JSON: x", "ctx": {}}
    text = pydantic_message(err)
    assert text == "Invalid JSON: x"
    assert text.translated(lambda i: "valore di {field} non valido ({detail})") == (
        "valore di size non valido (Invalid JSON: x)"
    )


def test_a_validators_message_comes_through_pydantic():
    """A model validator's `Message` reaches the error with its id (a value_error)."""
    with pytest.raises(ValidationError) as caught:
        Household(household_id="H", size=2, minors=3, urgency=1, need_date="2026-12-01",
                  expected_stay_days=9)  # fmt: skip
    text = pydantic_message(caught.value.errors()[0])
    assert text.id == "minors ({minors}) cannot exceed size ({size})"


CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "0", "-1", "31", "2.5", "x", "2026-02-30", "07/12/2026", "46000", "high"]),
)


@settings(max_examples=60, deadline=None)
@given(column=st.sampled_from(HEADER.split(",")), cell=CELLS)
def test_any_refused_cell_renders_its_english_and_its_italian(column, cell):
    """Whatever a cell holds, a refusal renders its English from the id, and its Italian from
    the catalogue without a placeholder left over."""
    row = dict(zip(HEADER.split(","), GOOD.split(","), strict=True))
    row[column] = cell
    try:
        parse_records(pd.DataFrame([row]), "households", Source("requests.csv", from_file=True))
    except InputError as error:
        assert error.translated(ENGLISH) == str(error)
        italian = error.translated(_italian_gettext())
        rest = italian
        for shown in (cell, cell.strip()):  # a record strips the whitespace around a cell
            rest = rest.replace(repr(shown), "").replace(shown, "") if shown else rest
        assert "{" not in rest
        assert italian.startswith("requests.csv, riga 2, colonna ")


def _italian_gettext():
    from allocator.web.i18n import translations

    return translations("it", "errors").gettext
