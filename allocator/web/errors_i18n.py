"""Errors in the reader's language: the ``errors`` catalogue beside ``messages``.

An error's words are an `allocator.errors.Message` (a message id, an English template with named
``{placeholders}``, and its parameters); the console shows ``gettext(id).format(**params)`` from
``locale/<lang>/LC_MESSAGES/errors.po``, read like ``messages.po`` (`allocator.web.i18n`). The ids
are marked with ``_N`` across the package (`allocator.errors`), hence a domain of their own:
``errors.pot`` is extracted from the whole package, ``messages.pot`` from the console only
(docs/console.md). English shows the error's own text, so it never differs from the CLI's line.
"""

from __future__ import annotations

import datetime as dt

from allocator.errors import Gettext, InputError, Message, error_message
from allocator.web import i18n

ERRORS_DOMAIN = "errors"


def error_gettext(reader: i18n.Reader | None = None) -> Gettext | None:
    """The errors catalogue's ``gettext`` for ``reader`` (default: the request's); None for
    English, the source language."""
    reader = reader or i18n.current()
    if reader.language == "en":
        return None
    return i18n.translations(reader.language, ERRORS_DOMAIN).gettext


def shown(value: object) -> object:
    """A parameter as the reader writes it: a date as 07/12/2026 in Italian (the English keeps
    YYYY-MM-DD, the CLI's and the files' format); text and numbers as they are."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return i18n.format_day(value)
    return value


def error_text(error: BaseException | str) -> str:
    """An error's whole line (file, row, column and what was expected) in the reader's language;
    a `Message` or plain text (an error already turned into words) as far as it translates."""
    if isinstance(error, BaseException):
        error = error_message(error)
    if isinstance(error, Message):
        return error.translated(error_gettext(), shown)
    return str(error)


def error_detail(error: InputError | str) -> str:
    """What an `InputError` says was wrong, without the "where" (a page shows that apart)."""
    if isinstance(error, InputError):
        return error.message.translated(error_gettext(), shown)
    return error_text(error)
