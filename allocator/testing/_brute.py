"""The exact optimum of a tiny instance by a bounded depth-first search over every valid plan.

Every household is either not placed or placed in some unit, or some set of connecting rooms of
one group (`room_choices`), on some start day of the horizon; the valid plans are those the rules
accept (`_rules`). The search goes household by household and leaves out only (a) a partial plan
that already breaks a rule (no rule is broken by leaving a household out, so no completion of it
is valid) and (b) a partial plan whose cost plus each remaining household's cheapest option cannot
beat the best plan found: its minimum is the exact optimum. ``extra`` adds a term of the caller's to each household's cost (a weight the tests write
out independently of `household_cost`).

With ``fair`` and a policy bound (`Policy.fair_wait_days`), only the plans that honour it count
(`_fair`): the minimum is the bounded optimum. A partial plan is also left out when two of its
decided households (placed or left out) already make an overtaking, which no choice for the
others can undo.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from allocator.testing._fair import overtaking_judge
from allocator.testing._objective import household_cost
from allocator.testing._raw import Placement, RawInstance, joined
from allocator.testing._rules import MAX_ROOMS, assignment_violations, placement_violations

ExtraCost = Callable[[str, Placement | None], float]


def placement_options(
    inst: RawInstance, household_id: str, extra: ExtraCost | None = None
) -> list[tuple[float, Placement | None]]:
    """Every placement of one household that breaks no rule on its own, cheapest first (ties in
    a fixed order)."""

    def cost(p: Placement | None) -> float:
        return household_cost(inst, household_id, p) + (extra(household_id, p) if extra else 0.0)

    out: list[tuple[float, Placement | None]] = [(cost(None), None)]
    for uid in room_choices(inst):
        for day in range(inst.horizon):
            if not placement_violations(inst, household_id, uid, day):
                out.append((cost((uid, day)), (uid, day)))
    return sorted(out, key=lambda o: (o[0], o[1] is None, o[1] or ("", 0)))


def room_choices(inst: RawInstance) -> list[str]:
    """Every unit, then every set of 2 to `MAX_ROOMS` rooms of one group (as "R2+R3", rooms in
    table order): what a household could be placed in, before any rule."""
    groups: dict[str, list[str]] = defaultdict(list)
    for uid, u in inst.units.items():
        if u.group is not None:
            groups[u.group].append(uid)
    out = list(inst.units)
    for group in sorted(groups):
        for k in range(2, MAX_ROOMS + 1):
            out.extend(joined(c) for c in itertools.combinations(groups[group], k))
    return out


def brute_force_optimum(
    inst: RawInstance, extra: ExtraCost | None = None, *, fair: bool = False
) -> tuple[float, dict[str, Placement], int]:
    """The minimum objective over all valid plans (with ``fair``, those that honour the policy's
    fairness bound), one plan reaching it, and the nodes visited."""
    hids = list(inst.households)
    judge = overtaking_judge(inst) if fair and inst.policy.fair_wait_days is not None else None

    def unfair(k: int, chosen: dict[str, Placement]) -> bool:
        """Whether household k and one decided before it make an overtaking, either way."""
        if judge is None:
            return False
        new = hids[k]
        return any(
            judge(old, new, chosen) is not None or judge(new, old, chosen) is not None
            for old in hids[:k]
        )

    opts = [placement_options(inst, h, extra) for h in hids]
    # cheapest conceivable cost of households k.. (each alone)
    rest = np.concatenate([np.cumsum([o[0][0] for o in opts][::-1])[::-1], [0.0]])
    best: list = [math.inf, {}, 0]

    def search(k: int, chosen: dict[str, Placement], cost: float) -> None:
        best[2] += 1
        if k == len(hids):
            if cost < best[0]:
                best[0], best[1] = cost, dict(chosen)
            return
        for c, placement in opts[k]:
            if cost + c + rest[k + 1] >= best[0] - 1e-12:
                break  # options are sorted by cost: none further can do better
            if placement is None:
                if not unfair(k, chosen):
                    search(k + 1, chosen, cost + c)
                continue
            chosen[hids[k]] = placement
            if not assignment_violations(inst, chosen) and not unfair(k, chosen):
                search(k + 1, chosen, cost + c)
            del chosen[hids[k]]

    search(0, {}, 0.0)
    return best[0], best[1], best[2]
