"""The one place where the engine's errors live.

Every error a user can cause carries where it happened (file or table, row, column) so the CLI can
print one line that a planner can act on, and a Python caller can react to the fields.

An error's words are a `Message`: the English text (what ``str`` gives, what the CLI prints) that
also remembers its message id (an English template with named ``{placeholders}``, marked with
`_N` so that ``pybabel extract -k _N`` finds it) and its parameters, so the console can show it
in the reader's language: ``gettext(id).format(**params)``, parameters that are messages
themselves translated first (`Message.translated`). The Italian lives in the web console's
``errors`` catalogue (`allocator.web.errors_i18n`); this module imports nothing of it.

    raise InputError(_N("unknown household {household!r}"), household=hid, field="household_id")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Gettext = Callable[[str], str]
Shown = Callable[[object], object]


def _N(template: str) -> str:
    """Mark ``template`` as a message id for the errors catalogue (``pybabel extract -k _N``)."""
    return template


class Message(str):
    """English text that remembers its message id and parameters, to be translated later.

    ``Message(template, **params)`` is ``template.format(**params)`` as a `str` (so it compares,
    prints and concatenates as the English it is); ``english`` gives the English where it is not
    the template's rendering (a generic id around words of a library). String operations give
    plain `str`: the English survives, the translation does not, so compose with `Message`.
    """

    id: str
    params: dict[str, Any]

    def __new__(cls, template: str, /, *, english: str | None = None, **params: Any) -> Message:
        text = (
            english if english is not None else (template.format(**params) if params else template)
        )
        self = super().__new__(cls, text)
        self.id = template
        self.params = params
        return self

    def translated(self, gettext: Gettext | None, shown: Shown | None = None) -> str:
        """The message in the language of ``gettext`` (None: the English, ``str(self)``);
        ``shown`` writes a parameter that is no message as that language does (a date)."""
        if gettext is None:
            return str(self)
        params = {k: translate(v, gettext, shown) for k, v in self.params.items()}
        template = gettext(self.id) if self.id else self.id  # "" is the catalogue's header
        if not params:
            return template
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):  # a broken translation: the English instead
            return str(self)

    def __reduce__(self):  # pickled by the console's planning process: keep id and params
        return (_rebuild, (self.id, str(self), self.params))


def _rebuild(template: str, english: str, params: dict[str, Any]) -> Message:
    return Message(template, english=english, **params)


def translate(value: object, gettext: Gettext | None, shown: Shown | None = None) -> object:
    """A parameter as its message says it: a `Message` translated, anything else as ``shown``
    writes it (as it is by default)."""
    if isinstance(value, Message):
        return value.translated(gettext, shown)
    return shown(value) if shown is not None else value


# the names a table goes by when it came from Python rather than a file, as errors name them
SOURCE_NAMES = {
    "households": _N("households"),
    "units": _N("units"),
    "stays": _N("stays"),
    "requests": _N("requests"),
    "policy": _N("policy"),
}


class AllocatorError(Exception):
    """Base class for the errors the engine raises on purpose."""


class InputError(AllocatorError):
    """Bad input: names the source (file or table), the row and the column or field.

    ``row`` is the row as a spreadsheet shows it (the header is row 1, the first record row 2) when
    the data came from a file, and the DataFrame's row label otherwise. ``message`` is a message
    id with its ``params`` as keywords (``InputError(_N("unknown unit {unit!r}"), unit=u)``), a
    `Message`, or plain text; ``.message`` and ``str(error)`` are the English either way, and
    `translated` words the whole line, "where" included, in another language.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        row: int | str | None = None,
        column: str | None = None,
        field: str | None = None,
        **params: Any,
    ) -> None:
        if params or not isinstance(message, Message):
            message = Message(message, **params)
        self.message: Message = message
        self.source = source
        self.row = row
        self.column = column
        self.field = field
        super().__init__(str(self))

    def as_message(self) -> Message:
        """The whole line, "where" included, as one `Message` (it pickles, and translates)."""
        parts: list[object] = []
        if self.source is not None:
            source = str(self.source)
            parts.append(Message(SOURCE_NAMES[source]) if source in SOURCE_NAMES else source)
        if self.row is not None:
            parts.append(Message(_N("row {row}"), row=self.row))
        if self.column is not None:
            parts.append(Message(_N("column '{column}'"), column=self.column))
        if self.field is not None:
            parts.append(Message(_N("field '{field}'"), field=self.field))
        if not parts:
            return self.message
        # the parts joined with commas: a template of its own, in no catalogue
        joined: dict[str, Any] = {f"p{k}": part for k, part in enumerate(parts)}
        where = Message(", ".join(f"{{{name}}}" for name in joined), **joined)
        return Message(_N("{where}: {message}"), where=where, message=self.message)

    def translated(self, gettext: Gettext | None = None, shown: Shown | None = None) -> str:
        """The whole line in the language of ``gettext``; None gives ``str(self)``."""
        return self.as_message().translated(gettext, shown)

    def __str__(self) -> str:
        return str(self.as_message())


def renamed(text: Message, old: str, new: str) -> Message:
    """``text`` with ``old`` replaced by ``new`` in its English and in its text parameters (an
    uploaded file's temporary path by the name the planner knows)."""
    params: dict[str, Any] = {}
    for key, value in text.params.items():
        if isinstance(value, Message):
            params[key] = renamed(value, old, new)
        elif isinstance(value, str) and old in value:
            params[key] = value.replace(old, new)
        else:
            params[key] = value
    return Message(text.id, english=str(text).replace(old, new), **params)


def error_message(error: BaseException) -> Message:
    """Any error's one line as a `Message`: an `InputError` whole, another error whose argument
    is a `Message` as it is, anything else its ``str`` (which no catalogue translates)."""
    if isinstance(error, InputError):
        return error.as_message()
    if len(error.args) == 1 and isinstance(error.args[0], Message):
        return error.args[0]
    return Message(str(error))


# --- pydantic's errors by type -----------------------------------------------------------------
# pydantic words its errors in English only; its error ``type`` and ``ctx`` are stable, so each
# type gets a message id whose English is pydantic's own sentence. A type not listed, or a
# sentence that differs from pydantic's, keeps pydantic's English under a generic id.

PYDANTIC_MESSAGES = {
    "missing": _N("Field required"),
    "extra_forbidden": _N("Extra inputs are not permitted"),
    "greater_than": _N("Input should be greater than {gt}"),
    "greater_than_equal": _N("Input should be greater than or equal to {ge}"),
    "less_than": _N("Input should be less than {lt}"),
    "less_than_equal": _N("Input should be less than or equal to {le}"),
    "finite_number": _N("Input should be a finite number"),
    "int_type": _N("Input should be a valid integer"),
    "int_parsing": _N("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": _N("Input should be a valid integer, got a number with a fractional part"),
    "int_parsing_size": _N("Unable to parse input string as an integer, exceeded maximum size"),
    "float_type": _N("Input should be a valid number"),
    "float_parsing": _N("Input should be a valid number, unable to parse string as a number"),
    "bool_type": _N("Input should be a valid boolean"),
    "bool_parsing": _N("Input should be a valid boolean, unable to interpret input"),
    "string_type": _N("Input should be a valid string"),
    "string_too_short": _N("String should have at least {min_length} characters"),
    "string_too_long": _N("String should have at most {max_length} characters"),
    "string_pattern_mismatch": _N("String should match pattern '{pattern}'"),
    "enum": _N("Input should be {expected}"),
    "literal_error": _N("Input should be {expected}"),
    "date_type": _N("Input should be a valid date"),
    "date_parsing": _N("Input should be a valid date in the format YYYY-MM-DD, {error}"),
    "date_from_datetime_parsing": _N("Input should be a valid date or datetime, {error}"),
    "date_from_datetime_inexact": _N(
        "Datetimes provided to dates should have zero time - e.g. be exact dates"
    ),
    "dict_type": _N("Input should be a valid dictionary"),
    "list_type": _N("Input should be a valid list"),
    "model_type": _N("Input should be a valid dictionary or instance of {class_name}"),
}
PYDANTIC_FALLBACK = _N("the value of {field} is not valid ({detail})")

# what pydantic's date parser (speedate) says is wrong, inside the sentences above
DATE_PROBLEMS = {
    text: text
    for text in (
        _N("input is too short"),
        _N("input is too long"),
        _N("invalid character in year"),
        _N("invalid character in month"),
        _N("invalid character in day"),
        _N("invalid date separator, expected `-`"),
        _N("month value is outside expected range of 1-12"),
        _N("day value is outside expected range"),
        _N("invalid datetime separator, expected `T`, `t`, `_` or space"),
        _N("unexpected extra characters at the end of the input"),
    )
}


def _ctx_value(name: str, value: object) -> object:
    """A ``ctx`` value as pydantic prints it: ``0`` for 0.0, a date as YYYY-MM-DD; its words
    (a date parser's problem, the "or" of the values an enum takes) as a `Message`."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and value in DATE_PROBLEMS:
        return Message(value)
    if name == "expected" and isinstance(value, str) and " or " in value:
        first, _or, last = value.rpartition(" or ")
        return Message(_N("{first} or {last}"), first=first, last=last)
    return str(value)


def pydantic_message(err: Mapping[str, Any]) -> Message:
    """pydantic's first error (a dict of ``ValidationError.errors()``) as a `Message` whose
    English is pydantic's sentence (``err["msg"]``); a ``value_error`` gives the validator's own
    message (a `Message` where the validator raised one)."""
    kind = err.get("type")
    ctx = err.get("ctx") or {}
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        cause = ctx["error"]
        words = cause.args[0] if getattr(cause, "args", None) else None
        return words if isinstance(words, Message) else Message(str(cause))
    english = str(err.get("msg", ""))
    template = PYDANTIC_MESSAGES.get(str(kind))
    if template is not None:
        try:
            params: dict[str, Any] = {
                k: _ctx_value(k, v) for k, v in ctx.items() if "{" + k + "}" in template
            }
            text = Message(template, **params)
        except (KeyError, IndexError, ValueError):
            text = None
        if text is not None and str(text) == english:
            return text
    loc = [str(p) for p in err.get("loc", ()) if not isinstance(p, int)]
    field = ".".join(p for p in loc if "[" not in p) or "?"
    return Message(PYDANTIC_FALLBACK, english=english, field=field, detail=english)
