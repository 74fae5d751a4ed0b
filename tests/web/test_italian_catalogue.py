"""Every string the console shows is in the Italian catalogue, translated, with the same
placeholders; and the catalogue uses the programme's own words (glossary)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

import allocator.web

WEB = Path(allocator.web.__file__).parent
LOCALE = WEB / "locale"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _extracted() -> dict[str, tuple[str, ...]]:
    """msgid -> all its forms, by Babel's extractors on the templates and the Python code."""
    config = (LOCALE / "babel.cfg").read_text(encoding="utf-8")
    method_map, options_map = parse_mapping_cfg(io.StringIO(config))
    found = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB), method_map, options_map
    ):
        forms = (message,) if isinstance(message, str) else tuple(message)
        if forms[0]:
            found[forms[0]] = forms
    return found


def _italian():
    with (LOCALE / "it" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale="it")


def test_extraction_finds_templates_and_code():
    """The extractor reads both the templates and the Python modules (a sanity check)."""
    found = _extracted()
    assert "Sign in" in found  # templates
    assert "Your role may not open this page." in found  # python, via N_
    assert len(found) > 150


def test_no_string_is_missing_from_the_italian_catalogue():
    """Each extracted msgid has a non-fuzzy Italian translation, every plural form filled."""
    catalogue = _italian()
    missing = []
    for msgid, forms in _extracted().items():
        entry = catalogue.get(forms if len(forms) > 1 else msgid)
        if entry is None:
            entry = catalogue.get(msgid)
        strings = (
            (entry.string,)
            if entry is not None and isinstance(entry.string, str)
            else (tuple(entry.string) if entry is not None else ())
        )
        if entry is None or entry.fuzzy or not strings or not all(strings):
            missing.append(msgid)
    assert missing == [], f"add these to it/LC_MESSAGES/messages.po: {missing}"


def test_translations_keep_the_placeholders():
    """A translation names the same %(placeholders)s as its English (a plural may drop %(num)d)."""
    for entry in _italian():
        if not entry.id:
            continue
        ids = (entry.id,) if isinstance(entry.id, str) else tuple(entry.id)
        strings = (entry.string,) if isinstance(entry.string, str) else tuple(entry.string)
        wanted = set(PLACEHOLDER.findall(ids[-1])) - {"num"}
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) - {"num"} == wanted, entry.id
            assert "%" not in PLACEHOLDER.sub("", text).replace("%%", ""), entry.id


def test_catalogue_uses_the_glossary():
    """The roles and the key terms are the programme's words (shared/data/glossary_it.md)."""
    catalogue = _italian()
    expected = {
        "planner": "responsabile delle assegnazioni",
        "caseworker": "operatore sociale",
        "viewer (read-only)": "consultazione (sola lettura)",
        "administrator": "amministratore",
        "Waiting list": "Lista d'attesa",
        "Urgency": "Urgenza",
        "Size": "Componenti",
        "turnover days": "giorni di ripristino",
        "scattered flat": "alloggio diffuso",
        "hub room": "camera dell'hub",
        "extension": "proroga",
        "Hotel person-nights": "Notti-persona in albergo",
    }
    for english, italian in expected.items():
        assert catalogue.get(english).string == italian
