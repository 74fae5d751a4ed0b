"""Italian and English: the gettext catalogues, the reader's language, dates and numbers.

English is the source language (the msgids); Italian lives in ``locale/it/LC_MESSAGES/
messages.po``, read with Babel when the first page in Italian is rendered and compiled in memory,
so the ``.po`` file in the repository is the only copy: no compile step, and no ``.mo`` that can
go stale. ``messages.pot`` beside it is the extracted template (see docs/console.md for the
update commands).

The language of a request comes from the ``lang`` cookie the switch sets, else from the browser's
Accept-Language, else the settings' default. Dates and numbers follow the reader's locale: the
browser's region where it speaks the chosen language (en-US, en-GB), else Italy for Italian and
the United Kingdom for English; so Italian shows 07/12/2026 and 1.234,5.

`gettext`/`_` translate into the language of the request being served (a context variable the
route guard sets); `N_` marks a string for extraction where it is defined and translated later.
"""

from __future__ import annotations

import datetime as dt
import io
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, lru_cache
from gettext import NullTranslations
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, format_time, get_datetime_format, get_timezone
from babel.numbers import format_decimal, format_percent

from allocator.web.settings import LANGUAGES, Language

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
DEFAULT_REGION = {"it": "IT", "en": "GB"}
LANG_COOKIE = "lang"


@cache
def translations(language: str, domain: str = DOMAIN) -> NullTranslations:
    """The catalogue of ``language``, compiled from its ``.po`` file (fuzzy entries left out);
    ``domain`` "errors" is the errors' catalogue (`allocator.web.errors_i18n`)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"
    if language == "en" or not po.exists():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=domain)


@dataclass(frozen=True)
class Reader:
    """Who reads the page: the language of the words and the locale of dates and numbers."""

    language: Language
    locale: Locale
    timezone: str = "Europe/Rome"

    @property
    def catalogue(self) -> NullTranslations:
        return translations(self.language)


_reader: ContextVar[Reader | None] = ContextVar("allocator_web_reader", default=None)


def use(reader: Reader) -> None:
    """Translate and format for ``reader`` from now on in this request's context."""
    _reader.set(reader)


def current() -> Reader:
    reader = _reader.get()
    return reader if reader is not None else reader_for("en", None, "en")


def gettext(message: str) -> str:
    return current().catalogue.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return current().catalogue.ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it yet (module-level tables)."""
    return message


# --- which language --------------------------------------------------------------------------


def accepted(header: str | None) -> list[str]:
    """The language tags of an Accept-Language header, most wanted first."""
    tags = []
    for position, part in enumerate((header or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            tags.append((-quality, position, tag))
    return [tag for _q, _p, tag in sorted(tags)]


def reader_for(cookie: str | None, header: str | None, default: Language, tz: str = "") -> Reader:
    """The reader of a request: the switch's cookie, else the browser's first language we speak."""
    tags = accepted(header)
    language: Language = default
    if cookie in LANGUAGES:
        language = cookie
    else:
        for tag in tags:
            base = tag.split("-")[0].split("_")[0].lower()
            if base in LANGUAGES:
                language = base
                break
    region = DEFAULT_REGION[language]
    for tag in tags:  # the browser's own region for that language, where it names one
        try:
            loc = Locale.parse(tag.replace("_", "-"), sep="-")
        except (ValueError, UnknownLocaleError):
            continue
        if loc.language == language and loc.territory:
            region = loc.territory
            break
    try:
        locale = Locale(language, region)
    except UnknownLocaleError:
        locale = Locale(language, DEFAULT_REGION[language])
    return Reader(language, locale, tz or "Europe/Rome")


# --- dates and numbers in the reader's locale -------------------------------------------------


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return value != value  # NaN, NaT
    except (TypeError, ValueError):
        return False


def format_day(value: object, skeleton: str = "yMMdd") -> str:
    """A date as the reader writes it: 07/12/2026 in Italian; empty for no date."""
    if _missing(value):
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    if hasattr(value, "date") and not isinstance(value, dt.date):  # pandas Timestamp
        value = value.date()
    return _skeleton(skeleton, value, str(current().locale))


@lru_cache(maxsize=8192)
def _skeleton(skeleton: str, day: dt.date, locale: str) -> str:
    """Babel matches the skeleton anew on each call (a millisecond): a page of a few hundred
    dates repeats the same days, so the formatted text is kept."""
    return format_skeleton(skeleton, day, locale=locale)


def format_moment(value: object) -> str:
    """A stored UTC time (naive) in the reader's locale and the console's time zone."""
    if _missing(value):
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    reader = current()
    moment = value.replace(tzinfo=dt.UTC).astimezone(get_timezone(reader.timezone))
    day = _skeleton("yMMdd", moment.date(), str(reader.locale))
    hour = format_time(moment, "HH:mm", locale=reader.locale)
    pattern = str(get_datetime_format("short", locale=reader.locale))  # "{1}, {0}" in Italian
    return pattern.replace("{1}", day).replace("{0}", hour)


def format_number(value: object, digits: int = 0) -> str:
    """A number with the reader's separators (1.234,5 in Italian), ``digits`` decimals at most."""
    if _missing(value):
        return ""
    pattern = "#,##0" + ("." + "#" * digits if digits > 0 else "")
    return _decimal(value, pattern, str(current().locale))


@lru_cache(maxsize=8192)
def _decimal(value: object, pattern: str, locale: str) -> str:
    return format_decimal(value, format=pattern, locale=locale)  # type: ignore[arg-type]


def format_share(value: object, digits: int = 1) -> str:
    """A share (0.873) as a percentage in the reader's locale: 87,3% in Italian."""
    if _missing(value):
        return ""
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
    return format_percent(value, format=pattern, locale=current().locale)  # type: ignore[arg-type]
