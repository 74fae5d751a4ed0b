"""Where a scenario's numbers come from: the comments beside them in its YAML file.

Every number in ``scenarios/*.yaml`` carries its source, or "(est.)" when no source states it, as
a comment. Reports and notebooks show those sources next to the numbers, and list the estimates,
so a reader can judge which results rest on published figures and which on guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_EST = re.compile(r"\(est\b|no source", re.IGNORECASE)


@dataclass(frozen=True)
class Assumption:
    """One ``key: value`` line of a scenario file with the comments that give its source."""

    path: str  # dotted, e.g. "arrivals.weekly_rate"
    value: str  # as written in the file
    source: str  # the trailing and preceding comments, joined
    file: str
    estimate: bool  # marked "(est.)", "no source", or a number with no comment at all


def _split_comment(text: str) -> tuple[str, str]:
    """``value  # comment`` -> (value, comment); a ``#`` inside quotes is not a comment."""
    quote = None
    for k, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (k == 0 or text[k - 1] in " \t"):
            return text[:k].strip(), text[k + 1 :].strip()
    return text.strip(), ""


_KEY = re.compile(
    r"^(?P<indent> *)(?P<key>[A-Za-z0-9_\-]+|\"[^\"]+\"|'[^']+'):(?:\s|$)(?P<rest>.*)"
)


def read_assumptions(path: str | Path) -> tuple[list[Assumption], dict[str, str], str]:
    """The scenario file's ``key: value`` lines with their comments, following ``extends:``.

    A line's source is its trailing comment plus the block of comment lines right above it (no
    blank line in between). The comment block that opens the file describes the file; a comment
    above a section header (``pathways:``) describes the section. Returns the assumptions (a
    variant's lines replace its base's), the section notes and the file's description.
    """
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    entries: dict[str, Assumption] = {}
    notes: dict[str, str] = {}
    header: list[str] = []
    pending: list[str] = []
    stack: list[tuple[int, str]] = []
    base: Path | None = None
    at_top = True
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#"):
            (header if at_top else pending).append(stripped.lstrip("#").strip())
            continue
        at_top = False
        if not stripped:
            pending = []
            continue
        m = _KEY.match(line)
        if m is None:  # a list item or a continuation line: not a key of its own
            pending = []
            continue
        indent, key = len(m["indent"]), m["key"].strip("\"'")
        value, trailing = _split_comment(m["rest"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        dotted = ".".join([k for _, k in stack] + [key])
        source = "; ".join(s for s in (" ".join(pending), trailing) if s)
        pending = []
        if key == "extends" and not stack:
            base = path.parent / value.strip("\"'")
            continue
        if not value:
            stack.append((indent, key))
            if source:
                notes[dotted] = source
            continue
        number = bool(re.search(r"\d", value))
        estimate = bool(_EST.search(source)) or (number and not source)
        entries[dotted] = Assumption(dotted, value, source, path.name, estimate)
    if base is not None and base.is_file():
        base_entries, base_notes, _ = read_assumptions(base)
        merged = {a.path: a for a in base_entries}
        replaced = [
            k
            for k in merged
            if any(k.startswith(p + ".") or p.startswith(k + ".") for p in entries)
        ]
        for k in replaced:  # a mix the variant replaces whole, or a mapping it changes inside
            del merged[k]
        merged.update(entries)
        entries, notes = merged, {**base_notes, **notes}
    return list(entries.values()), notes, " ".join(header)
