"""The restricted LP written on breakpoint days: the running-total model's LP in far fewer rows.

The model (`model`) counts each pool's, the support's and each capped language's load per day
through running totals: per chain (a pool, the support cap, a capped language) H variables and H
rows, whatever columns the LP holds. The restricted LP of column generation holds a few hundred
columns, and GLOP's time per solve goes mostly to those rows. Here the same LP has, per chain c
and *breakpoint* day b, one row

    sum over the LP's columns of c that cover b of  w x  <=  cap[c, b]

where the breakpoints of c are the start days of its LP columns and the days where its cap drops
(``cap[c, d] < cap[c, d - 1]``) that some LP column covers. That is exact: on a day d that is no
breakpoint, every column covering d started on or before the last breakpoint b before d (start
days are breakpoints) and covers b too, so d's load is at most b's; and the cap did not drop
between them (a covered drop day is a breakpoint), so d's load is within its cap.

`BreakpointLP` offers the interface of `backend.IncrementalLP` to column generation, its dives and
its cuts: entries come in the full model's layout (`model.column_entries`), and duals go out in
it (`BreakpointLP.full_duals`): the running totals' duals are those of an optimal dual solution
of the running-total LP over the same columns, so pricing (`pricing.pricer`), the Lagrangian
bound and the cuts' pricing read them unchanged. Variables are the households' unplaced flags,
then the columns (no running totals): column generation's ``n0`` is the number of households.
"""

from __future__ import annotations

import numpy as np

from allocator.engine.columns import Columns
from allocator.engine.instance import Instance
from allocator.engine.optimiser import backend
from allocator.engine.optimiser.model import chain_blocks, chain_reads, column_entries, layout_of

_DIGITS = 12  # decimals kept of the LP's values
_AFTER = np.iinfo(np.int64).max  # a key past every (chain, day) key
_EMPTY = np.zeros(0, dtype=np.int64)


def _ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each i the integers lo[i]..hi[i]-1, concatenated, and the i each comes from."""
    count = np.maximum(hi - lo, 0)
    owner = np.repeat(np.arange(lo.size), count)
    first = np.cumsum(count) - count
    return lo[owner] + np.arange(owner.size) - first[owner], owner


class BreakpointLP:
    """The restricted LP on breakpoint rows, kept alive in GLOP (`backend.IncrementalLP`).

    Rows, in the order they were made: the household rows (= 1), then breakpoint rows as new
    columns need them and the rows `add_rows` adds, interleaved. `basis` and `set_basis` speak of
    these rows; `n_rows`, the duals and the entries `add_columns` takes speak of the full model's.
    A new breakpoint row gets the entries of the LP's columns that cover it, and its slack enters
    the basis: the last basis stays a basis and stays primal feasible (see the module docstring).
    A (chain, day) pair is one integer key, ``chain * (H + 1) + day``, so that one sorted array
    holds every chain's breakpoints.
    """

    def __init__(self, inst: Instance, base: backend.SparseModel) -> None:
        lay = layout_of(inst)
        N, H = lay.N, lay.H
        self._N, self._H, self._K = N, H, H + 1
        self._n_chains = lay.P + lay.S + lay.M
        self._n_model_rows = lay.n_rows  # the full model's rows, before any added
        cap = base.var_ub[N : N + self._n_chains * H].reshape(self._n_chains, H)
        self._cap = cap.ravel()  # by chain * H + day
        step = np.diff(cap, axis=1)
        keys = np.arange(self._n_chains)[:, None] * self._K + np.arange(1, H)
        self._drops = keys[step < 0]  # where a cap drops (sorted keys)
        self._reads = chain_reads(inst)  # what `add_placements` reads of the instance
        self._rises = np.append(keys[step > 0], _AFTER)  # where it rises, then past every key
        # GLOP is handed the model at its first use (`glop`): the first columns, and the rows
        # they need, then go into it in one piece rather than as updates
        self._glop: backend.IncrementalLP | None = None
        # own rows: the key of each (-1: a household or added row), its bounds
        self._row_key = np.full(N, -1, dtype=np.int64)
        self._row_lb, self._row_ub = np.ones(N), np.ones(N)
        self._added = _EMPTY  # own row of each row `add_rows` added
        self._bp_keys, self._bp_rows = _EMPTY, _EMPTY  # the breakpoints (sorted), their rows
        # variables: a stable id per position (ids grow with position), cost and bounds by id
        self._vid = np.arange(N)
        self._cost, self._lb, self._ub = base.cost[:N].copy(), np.zeros(N), base.var_ub[:N].copy()
        # per column in the LP and chain it enters: start and end keys (end exclusive), weight,
        # the column's id
        self._iv_s, self._iv_e, self._iv_vid = _EMPTY, _EMPTY, _EMPTY
        self._iv_w = np.zeros(0)
        # what `full_duals` looks up, made when first needed after a change (`_duals_lookups`)
        self._lookups: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        # every entry ever made (own row, variable id, value), for `copy`
        self._entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = [
            (np.arange(N), np.arange(N), np.ones(N))
        ]

    @property
    def glop(self) -> backend.IncrementalLP:
        """The GLOP model that solves this LP (made at the first use)."""
        if self._glop is None:
            self._glop = self._build()
        return self._glop

    def _build(self) -> backend.IncrementalLP:
        """This LP as it stands (rows in their order, variables, bounds) in a new GLOP model."""
        rows, vids, vals = (np.concatenate(x) for x in zip(*self._entries, strict=True))
        alive = np.zeros(self._cost.size, dtype=bool)
        alive[self._vid] = True
        keep = alive[vids]
        return backend.IncrementalLP(
            backend.SparseModel(
                cost=self._cost[self._vid],
                var_lb=self._lb[self._vid],
                var_ub=self._ub[self._vid],
                integer=np.zeros(self._vid.size, dtype=bool),
                rows=rows[keep],
                cols=np.searchsorted(self._vid, vids[keep]),
                vals=vals[keep],
                row_lb=self._row_lb,
                row_ub=self._row_ub,
            )
        )

    # the interface of backend.IncrementalLP
    @property
    def n_vars(self) -> int:
        return self._vid.size

    @property
    def n_rows(self) -> int:
        """Rows of the full model's layout: households, running totals, then added rows."""
        return self._n_model_rows + self._added.size

    def leave_values_out(self, first: int, end: int) -> None:
        """Nothing to leave out: no running totals among the variables."""

    def add_columns(
        self, cost: np.ndarray, rows: np.ndarray, local: np.ndarray, vals: np.ndarray
    ) -> None:
        """Append len(cost) columns in [0, 1]; entries in the full model's rows (household,
        running totals as `model.column_entries` gives them, added rows) and 0-based new-column
        numbers. Breakpoint rows the new columns need are made first."""
        if len(cost) == 0:
            return
        N = self._N
        on_chain = (rows >= N) & (rows < self._n_model_rows)
        direct = ~on_chain
        household_or_added = rows[direct]
        added = household_or_added >= self._n_model_rows
        if added.any():
            household_or_added = household_or_added.copy()
            household_or_added[added] = self._added[household_or_added[added] - self._n_model_rows]
        intervals = self._intervals(rows[on_chain] - N, local[on_chain], vals[on_chain])
        self._append(cost, household_or_added, local[direct], vals[direct], *intervals)

    def add_placements(self, inst: Instance, cols: Columns) -> None:
        """`add_columns` of these placement columns, with `model.column_entries`' entries: the
        same LP, the intervals read off the chains they load (`model.chain_blocks`, which those
        entries are written from) rather than off the entries."""
        if self._added.size:  # the columns need entries in the added rows too
            self.add_columns(cols.cost, *column_entries(inst, cols, 0))
            return
        k = len(cols)
        if k == 0:
            return
        H, K = self._H, self._K
        every = np.arange(k)
        s_key, e_key, w, s_local = [], [], [], []
        for chains, end, weight, enters in chain_blocks(self._reads, cols):
            which = every if enters is None else np.flatnonzero(enters)
            first = (chains if isinstance(chains, int) else chains[which]) * K
            s_key.append(first + cols.start[which])
            e_key.append(first + np.minimum(end[which], H))  # the chain's end after the horizon
            w.append(weight[which])
            s_local.append(which)
        intervals = (np.concatenate(x) for x in (s_key, e_key, w, s_local))
        self._append(cols.cost, cols.household, every, np.ones(k), *intervals)

    def _append(
        self,
        cost: np.ndarray,
        household_or_added: np.ndarray,
        direct_local: np.ndarray,
        direct_vals: np.ndarray,
        s_key: np.ndarray,
        e_key: np.ndarray,
        w: np.ndarray,
        s_local: np.ndarray,
    ) -> None:
        """New columns: their entries in own household or added rows, and their intervals
        (`_intervals`); breakpoint rows they need are made first."""
        k = len(cost)
        vids = self._cost.size + np.arange(k)  # ids are never reused
        self._make_breakpoints(s_key, e_key)
        lo = np.searchsorted(self._bp_keys, s_key, side="left")
        hi = np.searchsorted(self._bp_keys, e_key, side="left")
        at, which = _ranges(lo, hi)
        r = np.concatenate([household_or_added, self._bp_rows[at]])
        loc = np.concatenate([direct_local, s_local[which]])
        v = np.concatenate([direct_vals.astype(float), w[which]])
        if self._glop is not None:
            self._glop.add_columns(cost, r, loc, v)
        self._vid = np.concatenate([self._vid, vids])
        self._cost = np.concatenate([self._cost, np.asarray(cost, dtype=float)])
        self._lb = np.concatenate([self._lb, np.zeros(k)])
        self._ub = np.concatenate([self._ub, np.ones(k)])
        self._iv_s = np.concatenate([self._iv_s, s_key])
        self._iv_e = np.concatenate([self._iv_e, e_key])
        self._iv_w = np.concatenate([self._iv_w, w])
        self._iv_vid = np.concatenate([self._iv_vid, vids[s_local]])
        self._lookups = None
        self._entries.append((r, vids[loc], v))

    def _intervals(
        self, chain_rows: np.ndarray, local: np.ndarray, vals: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Start and end keys, weight and new-column number per column and chain it enters:
        -w on the start day's running-total row, +w on the end day's (none when it ends after
        the horizon)."""
        H, K = self._H, self._K
        chain, day = chain_rows // H, chain_rows % H
        key = chain * K + day
        start = vals < 0
        s = np.flatnonzero(start)
        s_key = key[s]
        e_key = chain[s] * K + H
        ends = np.flatnonzero(~start)
        if ends.size:
            pair = local * self._n_chains + chain  # a column's entries on one chain
            by_pair = ends[np.argsort(pair[ends], kind="stable")]
            sorted_pairs = pair[by_pair]
            at = np.minimum(np.searchsorted(sorted_pairs, pair[s]), ends.size - 1)
            matched = sorted_pairs[at] == pair[s]
            e_key[matched] = key[by_pair[at[matched]]]
        return s_key, e_key, -vals[s].astype(float), local[s]

    def _make_breakpoints(self, s_key: np.ndarray, e_key: np.ndarray) -> None:
        """The rows new intervals need and the LP lacks: their start days, and the drop days of
        their caps they cover; each gets the entries of the LP's columns covering it."""
        need = s_key
        if self._drops.size:
            lo = np.searchsorted(self._drops, s_key, side="right")
            hi = np.searchsorted(self._drops, e_key, side="left")
            need = np.concatenate([s_key, self._drops[_ranges(lo, hi)[0]]])
        if self._bp_keys.size:  # (a searchsorted: quicker than isin on these small arrays)
            at = np.minimum(np.searchsorted(self._bp_keys, need), self._bp_keys.size - 1)
            need = need[self._bp_keys[at] != need]
        if need.size == 0:
            return
        need = np.sort(need)
        new = need[np.concatenate(([True], need[1:] != need[:-1]))]  # np.unique, quicker
        n_own = self._row_key.size
        lo = np.searchsorted(new, self._iv_s, side="left")
        hi = np.searchsorted(new, self._iv_e, side="left")
        at, which = _ranges(lo, hi)
        pos = np.searchsorted(self._vid, self._iv_vid[which])
        vals = self._iv_w[which]
        upper = self._cap[(new // self._K) * self._H + new % self._K]
        if self._glop is not None:
            self._glop.add_rows(pos, at, upper, vals, lower=-np.inf)
        rows = n_own + np.arange(new.size)
        self._entries.append((n_own + at, self._iv_vid[which], vals))
        self._row_key = np.concatenate([self._row_key, new])
        self._row_lb = np.concatenate([self._row_lb, np.full(new.size, -np.inf)])
        self._row_ub = np.concatenate([self._row_ub, upper])
        # merged in key order (the new keys are none of the old): quicker than np.insert
        keys = np.concatenate([self._bp_keys, new])
        order = keys.argsort(kind="stable")
        self._bp_keys, self._bp_rows = keys[order], np.concatenate([self._bp_rows, rows])[order]

    def add_rows(self, positions: np.ndarray, local: np.ndarray, upper: np.ndarray) -> None:
        """Append rows ``0 <= sum of variables <= upper`` (`backend.IncrementalLP.add_rows`);
        they follow the full model's rows in its layout (duals, entries of later columns)."""
        k = len(upper)
        n_own = self._row_key.size
        if self._glop is not None:
            self._glop.add_rows(positions, local, upper)
        self._added = np.concatenate([self._added, n_own + np.arange(k)])
        self._row_key = np.concatenate([self._row_key, np.full(k, -1)])
        self._lookups = None
        self._row_lb = np.concatenate([self._row_lb, np.zeros(k)])
        self._row_ub = np.concatenate([self._row_ub, np.asarray(upper, dtype=float)])
        self._entries.append((n_own + local, self._vid[positions], np.ones(len(local))))

    def remove(self, positions: np.ndarray) -> None:
        """Delete variables (positions) that `nonbasic_at_zero` reports; rows stay."""
        if positions.size == 0:
            return
        self.glop.remove(positions)
        gone = self._vid[positions]
        self._vid = np.delete(self._vid, positions)
        keep = ~np.isin(self._iv_vid, gone)
        self._iv_s, self._iv_e = self._iv_s[keep], self._iv_e[keep]
        self._iv_w, self._iv_vid = self._iv_w[keep], self._iv_vid[keep]
        self._lookups = None

    def set_bounds(self, positions: np.ndarray, *, lower: float | None = None, upper=None) -> None:
        self.glop.set_bounds(positions, lower=lower, upper=upper)
        if lower is not None:
            self._lb[self._vid[positions]] = lower
        if upper is not None:
            self._ub[self._vid[positions]] = upper

    def nonbasic_at_zero(self) -> np.ndarray:
        return self.glop.nonbasic_at_zero()

    def basis(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The last solve's basis: statuses per variable (model order) and per own row."""
        return self.glop.basis()

    def set_basis(self, var_status: np.ndarray, row_status: np.ndarray) -> None:
        """Start the next solve from this basis; rows made since it was read (breakpoints of
        columns added since) enter it basic."""
        missing = self._row_key.size - len(row_status)
        rows = np.concatenate([row_status, np.full(missing, backend.BASIC)])
        self.glop.set_basis(var_status, rows)

    def plan_row_status(self) -> np.ndarray:
        """Row statuses of a plan's basis: household rows fixed, every other row's slack basic
        (with the plan's columns or unplaced flags basic, one per household: a basis)."""
        status = np.full(self._row_key.size, backend.BASIC)
        status[: self._N] = backend.FIXED_VALUE
        return status

    def solve(self, time_limit: float, *, dual: bool = False) -> backend.SolverAnswer:
        """`backend.IncrementalLP.solve`, with the duals in the full model's layout."""
        answer = self.glop.solve(time_limit, dual=dual)
        if answer.values is not None:
            # the last bits of GLOP's values depend on its factorisation's history (rows made
            # between solves, a copy's fresh start): rounded, a dive breaks the same ties on
            # this LP as on its copy
            answer.values = np.round(answer.values, _DIGITS)
        if answer.duals is not None:
            answer.duals = self.full_duals(answer.duals)
        return answer

    def full_duals(self, own: np.ndarray) -> np.ndarray:
        """Duals of the own rows as the full model's: household rows and added rows as they
        are; the running totals' duals u[c, d] = -(sum of pi_b over the breakpoints b of c
        whose day t_b >= d), pi_b the dual of b's row, so that a running total's reduced cost
        u[c, d + 1] - u[c, d] is pi_b on day t_b and 0 on every other day.

        With t_b = b that is the plain translation, but a candidate column starting just after
        a binding b, inside the run of full days that follows it, would not be charged for
        them, price out and cost a round. So t_b is the last day before the chain's next
        breakpoint, the first day after b where an LP column ends and the first day after b
        where the cap rises. Every LP column covering b covers t_b and none starts in between,
        so each LP column's reduced cost is unchanged; b's load, at its cap when pi_b < 0, is
        the same through t_b, under the same cap: complementary slackness holds for the running
        totals, and the duals stay optimal for the running-total LP.
        """
        N, K = self._N, self._K
        n_chains, H = self._n_chains, self._H
        out = np.zeros(self.n_rows)
        out[:N] = own[:N]
        out[self._n_model_rows :] = own[self._added]
        on_chain, keys, breakpoints, ends = self._duals_lookups()
        pi = own[on_chain]
        binding = pi != 0
        b, pi = keys[binding], pi[binding]
        last = (b // K) * K + H  # the chain's end
        for after in (breakpoints, ends, self._rises):  # each sorted, then past every key
            last = np.minimum(last, after[np.searchsorted(after, b, side="right")])
        # each pi_b onto its day t_b (summed in order, as np.add.at would; floats when empty)
        flat = np.bincount(last - 1, weights=pi, minlength=n_chains * K).astype(float, copy=False)
        per_chain = flat.reshape(n_chains, K)[:, :H]
        out[N : N + n_chains * H] = -np.cumsum(per_chain[:, ::-1], axis=1)[:, ::-1].ravel()
        return out

    def _duals_lookups(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For `full_duals`: the own rows on a chain and their keys, the breakpoints and the
        intervals' end keys, both sorted and then past every key; kept until rows or columns
        change."""
        if self._lookups is None:
            on_chain = np.flatnonzero(self._row_key >= 0)
            self._lookups = (
                on_chain,
                self._row_key[on_chain],
                np.append(self._bp_keys, _AFTER),
                np.append(np.sort(self._iv_e), _AFTER),
            )
        return self._lookups

    def copy(self) -> BreakpointLP:
        """The same LP (rows in the same order, variables, bounds) in a second GLOP, without a
        basis: hand it this one's (`basis`, `set_basis`)."""
        twin = object.__new__(BreakpointLP)
        twin.__dict__.update(
            {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}
        )
        twin._entries = list(self._entries)
        twin._glop = self._build()
        return twin


RestrictedLP = backend.IncrementalLP | BreakpointLP
