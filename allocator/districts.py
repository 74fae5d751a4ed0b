"""Districts: where a unit is, where a household's school or work is, and how far apart they are.

A unit may carry a ``district`` and a household an ``anchor_district`` (the district of its
children's school or of its work). The distance between two districts counts the borders crossed
on the shortest way from one to the other: 0 in the same district, 1 next door, and so on. With
no district map (the policy's default) every other district is 1 away: "same" or "not same".

A map lists the districts and which pairs share a border. One map ships with the package and a
policy can name it (``districts = "milan_municipi"``); any other is given in the policy itself::

    [districts]
    names = ["north", "centre", "south"]
    adjacent = [["north", "centre"], ["centre", "south"]]

A unit whose district is not known counts as far as the farthest two districts of the map (1
with no map): the engine prefers a unit it knows to be close. Two districts of a map with no
way between them are one more than the map's widest distance apart.
"""

from __future__ import annotations

import functools
from collections import deque
from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

DistrictName = Annotated[str, Field(min_length=1, max_length=40)]
MAX_DISTRICTS = 200


class DistrictMap(BaseModel):
    """A city's districts and the pairs that share a border."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    names: list[DistrictName] = Field(min_length=1, max_length=MAX_DISTRICTS)
    adjacent: list[tuple[DistrictName, DistrictName]] = Field(
        default_factory=list, description="pairs of districts that share a border"
    )

    @model_validator(mode="after")
    def _known_names(self) -> DistrictMap:
        seen: set[str] = set()
        for name in self.names:
            if name in seen:
                raise ValueError(f"district {name!r} is listed twice in names")
            seen.add(name)
        for a, b in self.adjacent:
            for name in (a, b):
                if name not in seen:
                    raise ValueError(
                        f"adjacent names district {name!r}, which is not in names "
                        f"({', '.join(self.names)})"
                    )
            if a == b:
                raise ValueError(f"adjacent pairs district {a!r} with itself")
        return self

    def hops(self) -> np.ndarray:
        """Borders crossed between every two districts (names x names, in the order of
        ``names``), worked out once per map (`_hops`; every weekly plan asks). Read-only."""
        return _hops(tuple(self.names), tuple(self.adjacent))


# Milan's nine municipi (since 2016): Municipio 1 (centro storico) in the middle, the other eight
# around it clockwise from the north-east: 2 (Stazione Centrale, Greco, Turro), 3 (Città Studi,
# Lambrate), 4 (Vittoria, Forlanini), 5 (Vigentino, Gratosoglio), 6 (Barona, Lorenteggio), 7 (San
# Siro, Baggio), 8 (Fiera, Gallaratese, Quarto Oggiaro), 9 (Garibaldi, Niguarda). (est.) The
# borders are read off the Comune's map of the municipi as slices around the centre: 1 borders
# every other, and each outer municipio its two neighbours in the ring; no two outer municipi
# further apart touch. So no two municipi are more than 2 apart.
MILAN_MUNICIPI = DistrictMap(
    names=[f"M{k}" for k in range(1, 10)],
    adjacent=[("M1", f"M{k}") for k in range(2, 10)]
    + [(f"M{k}", f"M{k + 1}") for k in range(2, 9)]
    + [("M9", "M2")],
)


@functools.lru_cache(maxsize=16)
def _hops(names: tuple[str, ...], adjacent: tuple[tuple[str, str], ...]) -> np.ndarray:
    """Borders crossed between every two districts (names x names, in the order of
    ``names``): a breadth-first search from each; unconnected pairs one beyond the widest."""
    n = len(names)
    index = {name: k for k, name in enumerate(names)}
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for a, b in adjacent:
        neighbours[index[a]].add(index[b])
        neighbours[index[b]].add(index[a])
    out = np.full((n, n), -1, dtype=np.int64)
    for s in range(n):
        out[s, s] = 0
        queue = deque([s])
        while queue:
            k = queue.popleft()
            for m in neighbours[k]:
                if out[s, m] < 0:
                    out[s, m] = out[s, k] + 1
                    queue.append(m)
    out[out < 0] = out.max() + 1
    out.setflags(write=False)
    return out


SHIPPED: dict[str, DistrictMap] = {"milan_municipi": MILAN_MUNICIPI}


def resolve(spec: str | DistrictMap | None) -> DistrictMap | None:
    """The map a policy's ``districts`` field names: a shipped one by name, or the one given."""
    if spec is None or isinstance(spec, DistrictMap):
        return spec
    return SHIPPED[spec]


def distance_table(
    spec: str | DistrictMap | None, names: list[str]
) -> tuple[np.ndarray, list[str]]:
    """Distances between ``names`` (the districts in use), with one more column for a unit whose
    district is not known: len(names) x (len(names) + 1). Also the names the map does not list
    (none without a map): a caller refuses them."""
    dmap = resolve(spec)
    n = len(names)
    table = np.zeros((n, n + 1), dtype=np.int64)
    if dmap is None:
        table[:, :n] = 1 - np.eye(n, dtype=np.int64)
        table[:, n] = 1
        return table, []
    index = {name: k for k, name in enumerate(dmap.names)}
    unknown = [name for name in names if name not in index]
    if unknown:
        return table, unknown
    hops = dmap.hops()
    idx = np.array([index[name] for name in names], dtype=np.int64)
    table[:, :n] = hops[np.ix_(idx, idx)]
    table[:, n] = hops.max()
    return table, []


def describe_distance(distance: int) -> str:
    """The words a reason uses: "same district", "next district", "N districts away"."""
    if distance <= 0:
        return "same district as the school/work"
    if distance == 1:
        return "next district to the school/work"
    return f"{distance} districts away from the school/work"
