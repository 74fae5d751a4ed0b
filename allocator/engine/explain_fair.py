"""What the fairness bound decided, household by household, for the plan's reasons.

The bound (`Policy.fair_wait_days`, docs/engine.md "The fairness bound"): no household that has
waited N days since its need date sees a unit it could take start with a household that asked
later. The optimiser records what it did (`optimiser.fairness.FairnessRecord`): the rows it
added, one per overtaking it forbade (waiting household h, later household g, pool p, day t: g may
start in p on day t only if h has started by then), and the plan before the bound.

Only households whose placement differs from the plan before the bound, and that a row names, get
a sentence; every other reason stays as it was:

- a waiting household now placed, or placed earlier: "placed ahead of households who asked
  later: it had waited 40 days (fairness bound)";
- a later household moved or left out from a start the rows forbid it: "unit F3 on 2026-03-02
  kept for household H017, who asked earlier and had waited 40 days (fairness bound)".

The days are the waiting household's on the day the row is about (at least N, since it was
protected then): from its need date to the day the later household would have started. The unit
is the one the waiting household holds there in the final plan, or else the one the later
household would have held in the plan before the bound. Each sentence is a message id
(`allocator.errors._N`) with its Italian in the errors catalogue; only ids appear, pseudonymous.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from allocator.domain import JOINED_SEPARATOR
from allocator.engine import announcements
from allocator.engine.assign import assign_units
from allocator.engine.instance import Instance
from allocator.engine.optimiser.fairness import FairnessRecord
from allocator.errors import _N, Message

SEPARATOR = "; "  # between a reason and the bound's sentence, as between a reason's parts
AHEAD = _N("placed ahead of households who asked later: it had waited {waited} (fairness bound)")
KEPT = _N(
    "unit {unit} on {date} kept for household {household}, who asked earlier and had waited "
    "{waited} (fairness bound)"
)
KEPT_ROOMS = _N(
    "connecting rooms {rooms} on {date} kept for household {household}, who asked earlier and "
    "had waited {waited} (fairness bound)"
)
MARK = "(fairness bound)"  # how a reason the bound decided is recognised (the console counts them)


def _waited(days: int) -> Message:
    return Message(_N("1 day")) if days == 1 else Message(_N("{n} days"), n=days)


def fair_sentences(
    inst: Instance,
    record: FairnessRecord | None,
    pool: np.ndarray,
    start: np.ndarray,
    unit: np.ndarray,
    joined: dict[int, list[int]] | None = None,
) -> dict[int, list[Message]]:
    """Household index -> the bound's sentences for it, for the households it decided (none when
    the bound is off or did not bind)."""
    if record is None or not record.binding:
        return {}
    rows = np.asarray(record.rows, dtype=np.int64).reshape(-1, 4)
    if rows.size == 0:
        return {}
    before_pool = np.asarray(record.before_pool, dtype=np.int64)
    before_start = np.asarray(record.before_start, dtype=np.int64)
    placed = pool >= 0
    differs = (pool != before_pool) | (placed & (start != before_start))
    waiting, later, p_row, t_row = rows.T
    # a row whose later household sits in that very slot in the final plan decided nothing for it
    away = (pool[later] != p_row) | (start[later] != t_row)
    need = inst.need_day
    out: dict[int, list[Message]] = {}

    # the later households: the row about the slot each held before the bound, if one is,
    # the waiting household holding that pool now first, then the one who asked first (one
    # sort of all the rows, the first row of each later household taken)
    # only a row that still holds in the final plan keeps the slot: its waiting household has not
    # moved in by that day, or it is in that pool on that day (elsewhere earlier, nothing was kept)
    h_start = np.maximum(start[waiting], 0)
    in_pool = (pool[waiting] == p_row) & (start[waiting] <= t_row)
    in_pool &= t_row < start[waiting] + inst.stay_length(waiting, h_start)
    holds_row = ~placed[waiting] | (start[waiting] > t_row) | in_pool
    kept = np.flatnonzero(away & differs[later] & holds_row)
    g_of = later[kept]
    slot = (p_row[kept] == before_pool[g_of]) & (t_row[kept] == before_start[g_of])
    holds = pool[waiting[kept]] == p_row[kept]
    ranked = kept[np.lexsort((need[waiting[kept]], ~holds, ~slot, g_of))]
    firsts = ranked[np.unique(later[ranked], return_index=True)[1]]
    before_units: np.ndarray | None = None
    before_joined: dict[int, list[int]] = {}
    for h, g, p, t in rows[firsts].tolist():  # waiting, later, pool, day
        if pool[h] == p:
            rooms = [int(unit[h]), *(joined or {}).get(h, [])]
        elif before_pool[g] == p:
            if before_units is None:
                before_units, before_joined = assign_units(inst, before_pool, before_start)
            rooms = [int(before_units[g]), *before_joined.get(g, [])]
        elif inst.pools[p].units:
            rooms = [inst.pools[p].units[0]]
        else:
            continue  # connecting rooms nobody here holds: no unit to name
        names = JOINED_SEPARATOR.join(inst.unit_ids[u] for u in rooms)
        params: dict[str, Any] = dict(
            date=inst.day(t), household=inst.household_ids[h], waited=_waited(t - int(need[h]))
        )
        if len(rooms) > 1:
            out[g] = [Message(KEPT_ROOMS, rooms=names, **params)]
        else:
            out[g] = [Message(KEPT, unit=names, **params)]

    # the waiting households placed now, or earlier than before: the days on the first day a
    # later household was kept from a unit for it (any row's first day when none was)
    ahead = placed & ((before_pool < 0) | (start < before_start))
    mine = np.flatnonzero(ahead[waiting])
    decided = away[mine] & differs[later[mine]]
    ranked = mine[np.lexsort((t_row[mine], ~decided, waiting[mine]))]
    firsts = ranked[np.unique(waiting[ranked], return_index=True)[1]]
    for h, t in zip(waiting[firsts].tolist(), t_row[firsts].tolist(), strict=True):
        sentence = Message(AHEAD, waited=_waited(t - int(need[h])))
        out.setdefault(h, []).insert(0, sentence)
    return out


def add_sentences(reasons: list[Any], said: dict[int, list[Message]]) -> None:
    """The bound's sentences (`fair_sentences`) added, in place, to the reasons of the
    households it decided."""
    for i, sentences in said.items():
        reasons[i] = with_sentences(reasons[i], sentences)


def with_sentences(reason: str | None, sentences: list[Message]) -> str:
    """A reason with the bound's sentences after it, before an announcement's note
    (`announcements.with_note`), which stays last where `announcements.note_in` finds it."""
    added = SEPARATOR.join(sentences)
    if not reason:
        return added
    note = announcements.note_in(reason)
    if note is None:
        return f"{reason}{SEPARATOR}{added}"
    head = reason[: len(reason) - len(note)].removesuffix(announcements.NOTE_SEPARATOR)
    return announcements.with_note(f"{head}{SEPARATOR}{added}" if head else added, note)


def fair_details(record: FairnessRecord | None, sentences: dict[int, list[Message]]) -> dict:
    """``Plan.details["fairness"]``: the bound's days, the rows it added, whether it changed the
    plan, and how many households' reasons say it decided (empty when the bound is off)."""
    if record is None:
        return {}
    return {
        "fairness": {
            "days": int(record.days),
            "rows": int(np.asarray(record.rows).reshape(-1, 4).shape[0]),
            "binding": bool(record.binding),
            "households_decided": len(sentences),
        }
    }
