"""The optimiser's tuning knobs: one validated, frozen object that a caller passes in.

`allocator.plan(..., engine=EngineParams(...))` hands it down to every stage of
`allocator.engine.optimiser`; nothing reads a setting from a module global, so two plans in one
process can differ in them. Each field says in one line why it has its default; docs/engine.md
("Parameters") gives the measurements behind each. The defaults suit every size from a weekly
batch of ten households to a city of 5,000: most callers never need to change one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from allocator.errors import InputError
from allocator.limits import describe_error, field_of, number
from allocator.policy import read_toml

# sizes (households, columns) from which a rule applies: any count a machine can hold, exact in
# int64 and float64; larger means "never"
MAX_THRESHOLD = 10**12
# ratios and growth factors: at most as large ("never", as tests and benchmarks set them)
MAX_RATIO = 1e12
MAX_GROWTH_BEFORE_PROOF = MAX_RATIO
Exponent = Annotated[float, Field(ge=-10, le=10)]


class EngineParams(BaseModel):
    """The optimiser's settings, by stage: column generation, dives, MIPs, cuts, heuristics.

    "Share" fields are fractions of the time left at that point, in (0, 1]. Fields ending in
    ``_from`` are sizes (households or columns) from which a rule applies. Every field is finite
    and bounded (`grow_before_proof` may also be inf): counts per household at most 10,000,
    thresholds, ratios and growth factors at most 10^12, so that none leaves the integers that
    int64 and float64 hold exactly.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    # column generation: the LP relaxation solved over a few columns at a time
    initial_columns_per_household: int = Field(
        default=3,
        ge=1,
        le=10_000,
        description="each household's cheapest columns in the first restricted LP",
    )
    columns_added_per_household: int = Field(
        default=20,
        ge=1,
        le=10_000,
        description="columns a pricing round adds per household: idle ones are removed, so more "
        "a round saves rounds",
    )
    columns_added_per_round: int = Field(
        default=50_000,
        ge=1,
        le=100_000_000,
        description="at most this many a round in all: larger rounds at city size took longer "
        "than they saved",
    )
    remove_once_from: int = Field(
        default=500,
        ge=0,
        le=MAX_THRESHOLD,
        description="from this many households a removed column that prices back in stays, so "
        "removals cannot make the rounds cycle",
    )
    idle_rounds_before_removal: int = Field(
        default=1,
        ge=1,
        le=1_000_000,
        description="rounds a column stays non-basic with a positive reduced cost before it "
        "leaves the LP",
    )
    min_columns_to_remove: int = Field(
        default=2_000,
        ge=0,
        le=MAX_THRESHOLD,
        description="below this many columns in the LP, removing columns costs more than it saves",
    )
    lp_share_of_time: float = Field(
        default=0.75, gt=0, le=1, description="the LP's share of the time; the MIPs get the rest"
    )
    round_growth: float = Field(
        default=1.5,
        ge=0,
        le=MAX_RATIO,
        description="a round is started only while the time left exceeds this many times the "
        "last round's",
    )
    resumed_growth: float = Field(
        default=1.0,
        ge=0,
        le=MAX_RATIO,
        description="the same for the LP resumed at city size, which nothing follows",
    )
    glop_stop_margin: float = Field(
        default=0.01,
        ge=0,
        lt=1,
        description="GLOP is given this share less than the time left: it stops a little after "
        "its limit",
    )
    breakpoint_rows_up_to: int = Field(
        default=0,
        ge=0,
        description="batches of up to this many households solve the restricted LP on breakpoint "
        "days (one row per chain and start or cap drop day), not every day's running total: the "
        "same LP, faster on the simulation's small weekly batches, slower on larger or fresh "
        "ones (0: never)",
    )
    dual_smoothing: float = Field(
        default=0.4,
        ge=0,
        lt=1,
        description="Wentges smoothing: columns are priced at this share of the best bound's "
        "duals (fewer pivots)",
    )
    smoothing_from_gap: float = Field(
        default=1e-3,
        ge=0,
        le=1,
        description="smoothing only for a requested gap from this: its LP ends at a vertex "
        "that dives worse from",
    )
    smoothing_from: int = Field(
        default=500,
        ge=0,
        le=MAX_THRESHOLD,
        description="and only from this many households: below, it made the LP and the MIPs slower",
    )
    dive_excess: float = Field(
        default=6e-4,
        le=1,
        ge=-1_000,
        description="the rounds stop for a dive once their bound is within the gap minus this "
        "of the LP's value",
    )
    # dives: the LP made integral by fixing its fractional choices
    dive_share_of_time: float = Field(
        default=0.5, gt=0, le=1, description="a dive's share of the time the LP leaves"
    )
    unconverged_dive_share: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="with no MIP to follow (city size), the dive gets most of what the LP leaves",
    )
    pricing_dive_rounds: int = Field(
        default=40,
        ge=1,
        le=1_000_000,
        description="a pricing dive's rounds: a limit in rounds, not seconds, keeps plans the "
        "same on a busy machine",
    )
    pricing_dive_from: int = Field(
        default=500,
        ge=0,
        le=MAX_THRESHOLD,
        description="pricing dives from this many households: below, the MIPs are quicker",
    )
    dive_fix_at: float = Field(
        default=0.75,
        gt=0,
        le=1,
        description="a choice at this value or above is fixed at 1: at 0.5 two halves made the "
        "LP infeasible",
    )
    unconverged_dive_fix_at: float = Field(
        default=0.55,
        gt=0,
        le=1,
        description="an unconverged LP dives against the clock, in fewer and larger steps",
    )
    dive_fix_share: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="with no firm choice, this share of the fractional households is fixed "
        "together (0: one at a time)",
    )
    dive_fix_share_from: int = Field(
        default=500,
        ge=0,
        le=MAX_THRESHOLD,
        description="from this many households: smaller LPs need few re-solves, one at a time",
    )
    # MIPs: restricted to the columns of low reduced cost, then the proof of the gap
    extra_columns_per_household: int = Field(
        default=4,
        ge=0,
        le=10_000,
        description="each household's columns of lowest reduced cost in the restricted MIP",
    )
    extra_columns_per_day: int = Field(
        default=15,
        ge=1,
        le=10_000,
        description="and the columns of lowest reduced cost overall, per day of the horizon: "
        "the optimum often needs a few",
    )
    max_unconverged_mip_columns: int = Field(
        default=20_000,
        ge=0,
        le=MAX_THRESHOLD,
        description="no MIP over an unconverged LP with more columns: such MIPs found no plan "
        "at all",
    )
    max_proof_columns: int = Field(
        default=50_000,
        ge=1,
        le=MAX_THRESHOLD,
        description="a proof MIP larger than this costs more than it settles",
    )
    straight_to_proof_ratio: float = Field(
        default=4.0,
        ge=0,
        le=MAX_RATIO,
        description="the proof MIP straight away when it has at most this many times the "
        "restricted MIP's columns",
    )
    grow_before_proof: float = Field(
        default=8.0,
        ge=1,
        description="a larger restricted MIP first when the proof would be more than this many "
        "times the last (inf: never)",
    )
    restricted_growth: float = Field(
        default=4.0,
        ge=1,
        le=MAX_RATIO,
        description="each further restricted MIP has this many times the last one's columns "
        "(and needs that many times its time)",
    )
    central_fixing_from: int = Field(
        default=5_000,
        ge=0,
        le=MAX_THRESHOLD,
        description="a MIP settling the gap over this many columns first fixes columns by "
        "interior-point duals",
    )
    lean_mips: bool = Field(
        default=False,
        description="MIPs without HiGHS's restarts and primal heuristics: their cutoff is the "
        "incumbent, so only the bound is wanted, and branching still finds a better plan",
    )
    # cuts: clique inequalities on single-unit stretches, before any MIP
    clique_rounds: int = Field(
        default=20,
        ge=0,
        le=1_000_000,
        description="rounds of clique cuts before the MIPs (0: none); the few LPs that break "
        "cliques need a handful",
    )
    cut_share_of_time: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="the cuts' share of the time left, so that a MIP can still follow",
    )
    # heuristic plans: the first incumbents and the LP's first basis
    heuristic_stay_exponents: tuple[Exponent, ...] = Field(
        default=(0.0, 0.25, 0.5, 1.0),
        min_length=1,
        max_length=16,
        description="one greedy plan per exponent a, households by weight x size / stay^a; "
        "the best starts the LP",
    )
    heuristic_plans_from: int = Field(
        default=100,
        ge=0,
        le=MAX_THRESHOLD,
        description="those plans from this many households: below, they cost more than they save",
    )
    # size: whether the model is built at all (`optimiser.size`), from its estimated size
    model_bytes_per_column: int = Field(
        default=160,
        ge=1,
        le=1_000_000,
        description="the optimiser's peak memory per candidate column, its LP and pricing "
        "arrays included (measured 123-142 bytes)",
    )
    capped_bytes_per_column: int = Field(
        default=100,
        ge=0,
        le=1_000_000,
        description="and this many more with a support or mediation cap (measured up to 90)",
    )
    model_seconds_per_column: float = Field(
        default=5e-7,
        gt=0,
        le=1,
        description="building and indexing one column before the LP's first round (measured "
        "0.4-0.65 us on two busy cores)",
    )
    build_share_of_time: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="the model is built only when that is estimated to take at most this share "
        "of the time left: else the LP gets too little to beat the heuristic plans",
    )
    max_slices: int = Field(
        default=64,
        ge=1,
        le=1_000_000,
        description="a model too large for the memory is solved in at most this many slices by "
        "week of need; needing more, it is planned by the heuristic plans",
    )
    # the fairness bound (`Policy.fair_wait_days`): lazy rows on MIPs (`optimiser.fairness`)
    fair_all_columns: int = Field(
        default=20_000,
        ge=0,
        le=MAX_THRESHOLD,
        description="the bound's MIPs cover every column up to this many (their optimum is then "
        "the bounded optimum); above, the LP's columns and the compliant plans'",
    )
    fair_rounds: int = Field(
        default=25,
        ge=0,
        le=1_000_000,
        description="at most this many MIPs, each with the rows of the last one's overtakings; "
        "then the best compliant plan so far (a repaired one at worst)",
    )
    fair_share_of_time: float = Field(
        default=0.25,
        ge=0,
        lt=1,
        description="with the bound on, the share of the time kept from the usual stages for the "
        "bound's MIPs",
    )

    @field_validator("grow_before_proof", mode="plain")
    @classmethod
    def _finite_or_never(cls, value: object) -> float:
        """A number from 1 to 1e12, or inf for "never" (the one field where inf means something)."""
        try:
            v = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            v = math.nan
        if isinstance(value, bool) or not (1 <= v <= MAX_GROWTH_BEFORE_PROOF or v == math.inf):
            raise ValueError(
                f"expected a number from 1 to {number(MAX_GROWTH_BEFORE_PROOF)}, or inf (never); "
                f"got {value!r}"
            )
        return v

    def changed(self, changes: Mapping[str, object]) -> EngineParams:
        """These settings with some fields changed, checked again (``model_copy(update=...)``
        would not check them); raises pydantic's `ValidationError`."""
        return self.model_validate({**self.model_dump(), **changes})

    @classmethod
    def from_file(cls, path: str | Path, base: EngineParams | None = None) -> EngineParams:
        """Read settings from TOML (field names as keys); the rest keep ``base``'s values, or the
        defaults. A simulation passes its weekly loop's settings as ``base``, so a file that
        changes one field does not also undo the loop's others.

        Errors are `InputError`s of one line naming the file and the field, the value and the
        range, as `Policy.from_file`'s do.
        """
        path = Path(path)
        data = read_toml(path)
        try:
            return cls.model_validate(data) if base is None else base.changed(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise InputError(
                describe_error(cls, err), source=str(path), field=field_of(err)
            ) from None
