"""Placements told to families: what keeping them costs, which hard rule breaks one, what changed.

A planner who tells a family "flat F3 from the 15th" wants later plans to keep that date. Each
announced household's columns cost `Policy.announcement_weight` more unless they are exactly its
announced unit on its announced start, and so does leaving it out: a plan changes an announcement
only where that saves more than the weight (in urgency-1 hotel person-nights). The announced unit
is a pool of its own (as a pinned unit is), so "its unit" is one pool.

When a hard rule forbids the announced placement (the unit left the programme, a current stay runs
over it, the household's size or need of step-free access changed, the date has passed, an exit
date comes first, a planner's pin or forbid), no column can keep it: the weight is not charged and
the reason names the rule. Without announcements nothing here changes a plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from allocator.domain import rooms_text
from allocator.engine.memo import kept_on
from allocator.engine.result import CHANGE_COLUMNS
from allocator.errors import InputError
from allocator.rules import broken_rule, check_fit, first_overlap, overlap_rule

if TYPE_CHECKING:
    from allocator.domain import Stay
    from allocator.engine.instance import Instance, Overrides


# how a note on an announcement starts, and how it follows a placement's reason (`with_note`)
NOTE_START = "announced "
NOTE_SEPARATOR = "; "


@dataclass(frozen=True)
class Announcements:
    """The announcements of one planning run, checked against its instance.

    ``told``: household -> (unit, start) as announced. ``keep``: household -> (pool, day) for the
    announcements a plan may keep (the weight applies). ``broken``: household -> the hard rule that
    forces a change, in words (the weight does not apply).
    """

    told: dict[str, tuple[str, dt.date]] = field(default_factory=dict)
    keep: dict[str, tuple[int, int]] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)


def announced_units(overrides: Overrides, unit_index: Mapping[str, int]) -> set[int]:
    """The units named by announcements: each becomes a pool of its own."""
    return {unit_index[u] for u, _ in overrides.announced.values() if u in unit_index}


def resolve(inst: Instance, overrides: Overrides) -> Announcements | None:
    """Each announcement either kept possible (pool, day) or broken by a named hard rule."""
    if not overrides.announced:
        return None
    hh_index = {h: k for k, h in enumerate(inst.household_ids)}
    unit_index = {u: k for k, u in enumerate(inst.unit_ids)}
    stays_in: dict[str, list[Stay]] = {}
    for st in inst.tables.stays:
        for room in st.units:  # a stay in connecting rooms holds each of them
            stays_in.setdefault(room, []).append(st)
    keep: dict[str, tuple[int, int]] = {}
    broken: dict[str, str] = {}
    for h_id, (u_id, date) in overrides.announced.items():
        i = hh_index[h_id]
        rule = _broken_rule(inst, overrides, i, u_id, date, unit_index, stays_in.get(u_id, []))
        if rule is None:
            u = unit_index[u_id]
            keep[h_id] = (int(inst.unit_pool[u]), (date - inst.start).days)
        else:
            broken[h_id] = rule
    return Announcements(told=dict(overrides.announced), keep=keep, broken=broken)


def _broken_rule(
    inst: Instance,
    overrides: Overrides,
    i: int,
    u_id: str,
    date: dt.date,
    unit_index: Mapping[str, int],
    stays: list[Stay],
) -> str | None:
    """The first hard rule that forbids household i in unit ``u_id`` from ``date``, in words."""
    h_id = inst.household_ids[i]
    if u_id not in unit_index:
        return f"unit {u_id} is no longer in the programme"
    pin = overrides.pins.get(h_id)
    if pin is not None and pin != u_id:
        return f"the planner pinned it to unit {pin}"
    if (h_id, u_id) in overrides.forbids:
        return f"the planner forbade unit {u_id} for it"
    d = (date - inst.start).days
    if d < 0:
        return f"the announced date has passed (the plan starts on {inst.start})"
    if d < inst.release[i]:
        return f"its need date moved to {inst.day(int(inst.need_day[i]))}, after the announced date"
    if d >= inst.horizon:
        return f"the announced date is after the horizon ends ({inst.day(inst.horizon)})"
    u = unit_index[u_id]
    nights = inst.stay_length_at(i, d)
    if nights < 1:
        return f"its expected exit on {inst.day(int(inst.exit_day[i]))} comes first"
    end = date + dt.timedelta(days=nights)
    # the same rules, in the same words, as the tables' and the ledger's checks
    fit = check_fit(
        inst.tables.units[u], h_id, int(inst.size[i]), bool(inst.needs_access[i]), date, end
    )
    if fit is not None:
        return str(fit)
    turnover = inst.policy.turnover_days
    spans = [(s.start, s.expected_end) for s in stays]  # the current stays in the unit
    k = first_overlap(spans, date, end, turnover)
    if k is not None:
        return str(
            broken_rule(
                overlap_rule(turnover),
                f"a current stay in unit {u_id} runs until {spans[k][1]}",
            )
        )
    p = int(inst.unit_pool[u])
    q = inst.pools[p] if p >= 0 else None
    if q is None or q.free[d] < 1 or d + nights > q.departure_limit[d]:
        return f"unit {u_id} is not free for the stay from {date}"
    return None


def _arrays(inst: Instance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per household of ``inst``: announced and keepable, its pool, its day (-1 where not).

    Cached on the instance, keyed by its households' list and its announcements: the optimiser's
    slices of an instance (`dataclasses.replace`) carry the same announcements and get their own
    arrays, and announcements set on an instance anew are read anew.
    """
    ann = inst.announcements
    assert ann is not None

    def make() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = inst.n_households
        has = np.zeros(n, dtype=bool)
        pool = np.full(n, -1, dtype=np.int64)
        day = np.full(n, -1, dtype=np.int64)
        for k, h in enumerate(inst.household_ids):
            if h in ann.keep:
                has[k] = True
                pool[k], day[k] = ann.keep[h]
        return has, pool, day

    return kept_on(inst, "_announced_arrays", (inst.household_ids, ann), make)


def keeps(inst: Instance) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(announced, pool, day) per household, or None when no announcement can be kept."""
    if inst.announcements is None or not inst.announcements.keep:
        return None
    return _arrays(inst)


def change_cost(inst: Instance, household, pool, start) -> np.ndarray | float:
    """The announcement weight on each column (household, pool, start) that changes one."""
    k = keeps(inst)
    if k is None:
        return 0.0
    has, a_pool, a_day = k
    h = np.asarray(household, dtype=np.int64)
    same = (a_pool[h] == np.asarray(pool)) & (a_day[h] == np.asarray(start))
    return inst.policy.announcement_weight * (has[h] & ~same)


def unplaced_change_cost(inst: Instance) -> np.ndarray | float:
    """The announcement weight on leaving each announced household out."""
    k = keeps(inst)
    if k is None:
        return 0.0
    return inst.policy.announcement_weight * k[0]


def announced_first(inst: Instance, order: np.ndarray) -> np.ndarray:
    """Greedy's order with the households whose announcement can be kept moved to the front (by
    announced day), after the pinned ones; the rest keep their order."""
    k = keeps(inst)
    if k is None:
        return order
    has, _, day = k
    pinned = inst.pinned_pool >= 0
    rank = np.where(pinned[order], 0, np.where(has[order], 1, 2))
    key = np.where(has[order] & ~pinned[order], day[order], 0)
    return order[np.lexsort((np.arange(order.size), key, rank))]


def wishes(inst: Instance) -> tuple[np.ndarray, np.ndarray] | None:
    """Greedy's wished (pool, day) per household: the announced one where it can be kept."""
    k = keeps(inst)
    if k is None:
        return None
    return k[1], k[2]


def notes(
    inst: Instance, pool: np.ndarray, start: np.ndarray, unit: np.ndarray, solver: bool
) -> dict[int, str]:
    """For each announced household, what became of its announcement, in words."""
    ann = inst.announcements
    if ann is None:
        return {}
    out: dict[int, str] = {}
    hh_index = {h: k for k, h in enumerate(inst.household_ids)}
    for h_id, (u_id, date) in ann.told.items():
        i = hh_index[h_id]
        told = f"{NOTE_START}{u_id} from {date}"
        kept = pool[i] >= 0 and not inst.pools[pool[i]].parts  # connecting rooms: not kept
        if kept and inst.unit_ids[unit[i]] == u_id and inst.day(start[i]) == date:
            out[i] = f"{told}: kept"
        elif h_id in ann.broken:
            out[i] = f"{told}: changed, {ann.broken[h_id]}"
        elif solver:
            # the support team's and mediators' capacity are not checked per announcement (they
            # bind only with the other stays): name them as a cause where they could be one
            weight = inst.policy.announcement_weight
            limits = _capacity_limits(inst, i)
            out[i] = (
                f"{told}: changed by the plan, keeping it would cost the plan more than the "
                f"announcement weight ({weight:g})"
                + (f" or exceed the {limits} capacity" if limits else "")
            )
        else:
            out[i] = (
                f"{told}: changed, the unit is not free for it then (an earlier announced or "
                "pinned household, or accompaniment or mediation capacity)"
            )
    return out


def _capacity_limits(inst: Instance, i: int) -> str:
    """The capacities other than beds that household i's stay counts against, in words."""
    limits = []
    if inst.support_free is not None and inst.load[i] > 0:
        limits.append("accompaniment")
    if int(inst.language[i]) in inst.mediation_free:
        limits.append("mediation")
    return " or ".join(limits)


def with_note(reason: str, note: str) -> str:
    """A placement's reason with its announcement's note (`notes`) after it."""
    return f"{reason}{NOTE_SEPARATOR}{note}" if reason else note


def note_in(reason: object) -> str | None:
    """The announcement's note in a reason written by `with_note` (a plan's stored reason), or
    None when there is none."""
    if not isinstance(reason, str):
        return None
    if reason.startswith(NOTE_START):
        return reason
    k = reason.find(NOTE_SEPARATOR + NOTE_START)
    return reason[k + len(NOTE_SEPARATOR) :] if k >= 0 else None


PREVIOUS_COLUMNS = ("household_id", "unit_id", "start")


def checked_previous(previous: pd.DataFrame | None) -> pd.DataFrame | None:
    """``previous`` (a plan's placements: household_id, unit_id, start) checked, with its starts
    as dates (None where not placed); an `InputError` on source ``previous`` names the first
    missing column, repeated household or bad date."""
    if previous is None or (isinstance(previous, pd.DataFrame) and previous.shape == (0, 0)):
        return None
    if not isinstance(previous, pd.DataFrame):
        raise InputError(
            f"expected a table with columns {', '.join(PREVIOUS_COLUMNS)}, "
            f"got {type(previous).__name__}",
            source="previous",
        )
    for column in PREVIOUS_COLUMNS:
        if column not in previous.columns:
            raise InputError(
                f"missing column {column!r} (expected {', '.join(PREVIOUS_COLUMNS)})",
                source="previous",
                column=column,
            )
    # connecting rooms: the rooms besides unit_id, when the previous plan names them
    kept = [*PREVIOUS_COLUMNS, *(["joined_units"] if "joined_units" in previous.columns else [])]
    out = previous.loc[:, kept].copy()
    seen: set[str] = set()
    starts: list[dt.date | None] = []
    for label, h, start in zip(out.index, out["household_id"], out["start"], strict=True):
        if not _present(h):
            raise InputError(
                "missing household id", source="previous", row=label, column="household_id"
            )
        if str(h) in seen:
            raise InputError(
                f"household {h} appears twice: one row per household",
                source="previous",
                row=label,
                column="household_id",
            )
        seen.add(str(h))
        try:
            starts.append(_date(start))
        except (ValueError, TypeError):
            raise InputError(
                f"expected an ISO date like 2026-12-07, got {start!r}",
                source="previous",
                row=label,
                column="start",
            ) from None
    out["household_id"] = out["household_id"].astype(str)
    out["start"] = pd.Series(starts, index=out.index, dtype=object)
    return out


def changes(
    previous: pd.DataFrame | None, placements: pd.DataFrame, notes_by_id: Mapping[str, str]
) -> pd.DataFrame:
    """What changed per household against ``previous`` (the last approved plan's placements, or
    the announcements): unit, date, placed or not; households in only one of the two are left
    out (new requests, households housed or withdrawn since)."""
    if previous is None or previous.empty or placements.empty:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    before = previous.set_index("household_id")
    rows = []
    for r in placements.itertuples(index=False):
        h = str(r.household_id)
        if h not in before.index:
            continue
        b = before.loc[h]
        was_placed = _present(b["unit_id"]) and _present(b["start"])
        now_placed = r.status == "placed"
        unit_b = rooms_text(b["unit_id"], b.get("joined_units")) if was_placed else None
        start_b = _date(b["start"]) if was_placed else None
        unit_a = rooms_text(r.unit_id, getattr(r, "joined_units", None)) if now_placed else None
        start_a = _date(r.start) if now_placed else None
        if was_placed and not now_placed:
            what = "now unplaced"
        elif now_placed and not was_placed:
            what = "now placed"
        elif not now_placed:
            continue
        elif unit_b != unit_a and start_b != start_a:
            what = "unit and date"
        elif unit_b != unit_a:
            what = "unit"
        elif start_b != start_a:
            what = "date"
        else:
            continue
        reason = notes_by_id.get(h) or r.reason
        rows.append([h, what, unit_b, start_b, unit_a, start_a, reason])
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


def _present(value: object) -> bool:
    try:
        return value is not None and not bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return True


def _date(value: object) -> dt.date | None:
    if not _present(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(str(value)).date()
