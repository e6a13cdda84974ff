"""Allocate a participatory budget by votes: greedy by votes, or the Method of Equal Shares.

Pure: values in, an immutable :class:`AllocationResult` out. No database, no Flask, no floats
where a decision is made. Money is an ``int`` in the smallest unit (øre in the app); the same
inputs always give the same result, and :func:`inputs_hash` fingerprints those inputs.

Definitions used throughout
---------------------------
Ballot
    The set of project ids one voter approved. Empty ballots count as voters (they matter for
    the Method of Equal Shares, where every voter gets an equal part of the budget).
Votes
    The number of ballots that approve a project.
Vote order and rank
    Most votes first; projects with equal votes are ordered by the tie-break. ``rank`` is the
    1-based position in this order, for every project of the round (funded or not).
Tie-breaks
    Each is a total order, so results never depend on dict or set order:

    ``id``
        Ascending project id as the values compare in Python: ``int`` ids numerically
        (application numbers), ``str`` ids by code point, so ``"10" < "9"``. For Pabulib's string
        ids this is exactly pabutools' default ``lexico_tie_breaking``. (Mixed: ints first.)
    ``cost``
        Fewest kroner first; equal cost falls back to ``id``.
    ``lottery``
        A seeded draw: ascending SHA-256 hex digest of ``f"{seed}\\n{json.dumps(project_id)}"``,
        then ``id``. The seed (an int or str, stored as ``str(seed)``) is required and stored in
        the result, so anyone can redo the draw.
Greedy by votes (``"greedy"``, the rule Aarhus and CONSUL use)
    Walk the vote order; fund a project if its full cost fits in what is left, otherwise skip it
    and go on. Projects with zero votes are walked too (last) and are funded if they fit: that is
    what pabutools' ``greedy_utilitarian_welfare`` does and what the differential tests check.
Method of Equal Shares (``"mes"``), approval ballots, cost utilities, as equalshares.net runs it
    1. *MES with per-voter budget b*: every voter starts with ``b``. Repeatedly fund the project
       whose supporters can pay for it with the lowest price per unit of utility: the price
       ``ρ`` is the smallest amount such that ``Σ min(budget_i, ρ)`` over the supporters equals
       the cost, and the project's factor is ``ρ / cost``; ties go to the tie-break. Supporters
       pay ``min(budget_i, ρ)``. Stop when no project can be paid for by its supporters.
       Projects that cost 0 take no part (their cost utility is 0; pabutools does the same).
    2. *Add1*: start with ``b = budget / voters`` and raise ``b`` by one currency unit
       (``currency_unit``, 100 øre = 1 kr.) per step, keeping the last outcome whose total cost
       fits in the real budget; stop at the first outcome that does not (or when ``b`` would pass
       ``budget`` currency units above the start, pabutools' bound).
    3. *Completion*: fill what is left greedily by votes (as above) among the other projects.

    This is exactly pabutools' ``exhaustion_by_budget_increase(..., method_of_equal_shares,
    {"sat_profile": profile.as_sat_profile(Cost_Sat)}, budget_step=<voters>,
    exhaustive_stop=False)`` followed by ``greedy_utilitarian_welfare(..., sat_class=Cost_Sat,
    initial_budget_allocation=...)``, which the differential tests compare against.

Why the MES search is fast
--------------------------
Within one MES run every quantity (each voter's budget, each price ``ρ``) is an affine function
of the start budget ``b`` as long as the run's decisions stay the same (which project wins each
round, which supporters pay all they have). One exact run at ``b`` therefore also tells us up to
which ``b'`` its outcome cannot change; we jump straight to the first Add1 step past that point.
This is not a binary search (feasibility is not monotone in ``b``): every step is covered, by a
run or by a proof that its outcome equals the previous run's. Rounds evaluate projects lazily,
as pabutools does, using an earlier affine price as a lower bound. A new run does not start
from the first round either: the state before each round of the last run is kept with its own
proof, and the run goes on from the deepest round whose decisions still hold (the first rounds
usually hold for many steps; the last ones end the proof).

On large elections (many distinct ballots) the jumps rarely get far: some voter's budget crosses
a price at almost every step, though the projects funded change at few steps (13 times in the
243 steps of Swiecie 2023). There (when numpy is installed) ``_MesData.run_interval`` settles a
whole range of steps at once: it runs MES on intervals that hold each voter's budget for every
start budget in the range, and proves that all those runs fund the same projects, or gives up;
the ranges grow while proofs succeed. A single step is proven the same way, or, where floats
cannot separate a near-tie, run by ``_MesData.run_fast``: a voter's budget is ``b`` minus the
prices of the rounds in which it paid in full, so any exact sum over thousands of voters is a
few rational operations on integer counts; float64 arithmetic only picks the candidates, and a
decision is left to floats only when it holds with a margin of 1024 times their worst rounding
error (else exact rationals decide). The kept outcome's prices are always computed exactly by
``run_fast``. Same winners, same exact prices: the tests check both against ``run`` on random
elections full of exact ties, and on real ones.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, TypeAlias

from deltager.money import format_ore, tidy_periods

try:  # gmpy2's exact rationals are several times faster than fractions.Fraction; same values
    from gmpy2 import mpq as _Q
except ImportError:  # pragma: no cover - the standard library is always enough
    _Q = Fraction

try:  # numpy only speeds up the float runs (run_fast, run_interval); without it run() does all
    import numpy as _np
except ImportError:  # pragma: no cover
    _np = None

ProjectId: TypeAlias = int | str
Rule: TypeAlias = Literal["greedy", "mes"]
TieBreak: TypeAlias = Literal["id", "cost", "lottery"]
Phase: TypeAlias = Literal["greedy", "mes", "completion"]
Decision: TypeAlias = Literal["funded", "skipped"]

RULES: tuple[Rule, ...] = ("greedy", "mes")
TIE_BREAKS: tuple[TieBreak, ...] = ("id", "cost", "lottery")
ORE_PER_KRONE = 100


class OutOfTime(Exception):
    """The allocation did not finish before the deadline it was given (nothing is returned)."""


def _check_deadline(deadline: float | None) -> None:
    """Raise OutOfTime once ``time.monotonic()`` has passed ``deadline`` (None: no deadline)."""
    if deadline is not None and time.monotonic() > deadline:
        raise OutOfTime


class TraceStep(NamedTuple):
    """One line of the allocation protocol: a project considered, and what happened to it.

    A named tuple rather than a frozen dataclass: as immutable, and built in half the time (a
    greedy run builds one per project, a large part of its time on a small election).
    """

    number: int  # 1-based line number in the protocol
    phase: Phase  # "greedy" (greedy rule), "mes" (equal shares), "completion" (greedy after MES)
    project_id: ProjectId
    votes: int
    cost: int
    decision: Decision
    remaining: int  # real budget left after this step
    price: Fraction | None = None  # MES only: the most one supporter paid, in money units


class Line(NamedTuple):
    """The result for one project: votes, rank in the vote order and the amount granted (a named
    tuple, like ``TraceStep``)."""

    project_id: ProjectId
    votes: int
    rank: int
    cost: int
    granted: int


@dataclass(frozen=True, slots=True)
class AllocationResult:
    """What a rule gives: selected ids in selection order, the trace, and a line per project.

    The trace and the lines (and ``votes``, ``granted``, ``rank``) are built on request from the
    vote order, the tally, the costs and the selection: a caller that wants only the selection
    (a comparison of rules, the benchmark against pabutools) does not pay for the protocol.
    """

    rule: Rule
    tie_break: TieBreak
    seed: str | None
    budget: int
    num_ballots: int
    selected: tuple[ProjectId, ...]
    order: tuple[ProjectId, ...]  # every project of the round, in the vote order (rank 1 first)
    tally: Mapping[ProjectId, int]  # votes per project (0 for a project no ballot named)
    costs: Mapping[ProjectId, int]
    remainder: int
    mes_voter_budget: Fraction | None = None  # MES: each voter's budget in the kept outcome
    mes_increments: int | None = None  # MES: how many Add1 steps that budget is above the start
    # MES: the most one supporter paid for each of the first len(mes_prices) selected projects,
    # which equal shares funded (in that order); the rest of ``selected`` came by votes.
    mes_prices: tuple[Fraction, ...] = ()

    @property
    def trace(self) -> tuple[TraceStep, ...]:
        """The protocol, step by step: the projects equal shares funded (MES), then the walk
        down the vote order (greedy, or MES's completion) with each project funded or skipped."""
        tally, costs = self.tally, self.costs
        steps: list[TraceStep] = []
        left = self.budget
        by_shares = self.selected[:len(self.mes_prices)]
        for pid, price in zip(by_shares, self.mes_prices):
            left -= costs[pid]
            steps.append(TraceStep(len(steps) + 1, "mes", pid, tally[pid], costs[pid], "funded", left, price))
        phase: Phase = "greedy" if self.rule == "greedy" else "completion"
        funded = set(self.selected[len(self.mes_prices):])
        skip = set(by_shares)
        for pid in self.order:
            if pid in skip:
                continue
            decision: Decision = "skipped"
            if pid in funded:
                left -= costs[pid]
                decision = "funded"
            steps.append(TraceStep(len(steps) + 1, phase, pid, tally[pid], costs[pid], decision, left))
        return tuple(steps)

    @property
    def lines(self) -> tuple[Line, ...]:
        """One line per project, in rank order."""
        chosen = set(self.selected)
        tally, costs = self.tally, self.costs
        return tuple(
            Line(pid, tally[pid], rank, costs[pid], costs[pid] if pid in chosen else 0)
            for rank, pid in enumerate(self.order, start=1)
        )

    @property
    def votes(self) -> Mapping[ProjectId, int]:
        """Votes per project id."""
        return MappingProxyType({pid: self.tally[pid] for pid in self.order})

    @property
    def granted(self) -> Mapping[ProjectId, int]:
        """Amount granted per project id (0 when not funded)."""
        chosen = set(self.selected)
        return MappingProxyType({pid: self.costs[pid] if pid in chosen else 0 for pid in self.order})

    @property
    def rank(self) -> Mapping[ProjectId, int]:
        """Rank in the vote order per project id."""
        return MappingProxyType({pid: rank for rank, pid in enumerate(self.order, start=1)})


# --------------------------------------------------------------------------- tie-breaks


def _id_key(project_id: ProjectId) -> tuple[bool, ProjectId]:
    # ints before strs, so a total order exists even for mixed ids
    return (isinstance(project_id, str), project_id)


def tie_break_key(
    tie_break: TieBreak, costs: Mapping[ProjectId, int], seed: int | str | None = None
) -> Callable[[ProjectId], tuple]:
    """The sort key of a tie-break: smaller key wins a tie (see the module docstring)."""
    if tie_break == "id":
        return _id_key
    if tie_break == "cost":
        return lambda pid: (costs[pid], _id_key(pid))
    if tie_break == "lottery":
        if seed is None:
            raise ValueError("the lottery tie-break needs a seed")
        prefix = f"{seed}\n"

        def lottery_key(pid: ProjectId) -> tuple:
            digest = hashlib.sha256((prefix + json.dumps(pid)).encode()).hexdigest()
            return (digest, _id_key(pid))

        return lottery_key
    raise ValueError(f"unknown tie-break {tie_break!r}; use one of {TIE_BREAKS}")


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class _Inputs:
    costs: Mapping[ProjectId, int]
    ballots: list[frozenset[ProjectId]]
    budget: int
    votes: Counter[ProjectId]
    order: list[ProjectId]  # vote order
    key: Callable[[ProjectId], tuple]  # the tie-break's sort key that ordered it


def _prepare(
    costs: Mapping[ProjectId, int],
    ballots: Iterable[Collection[ProjectId]],
    budget: int,
    key: Callable[[ProjectId], tuple],
) -> _Inputs:
    # The usual, valid input passes C-level checks; the loop below only names what is wrong.
    id_types = set(map(type, costs))
    if not (id_types <= {int, str} and set(map(type, costs.values())) <= {int} and min(costs.values(), default=0) >= 0):
        for pid, cost in costs.items():
            if not _is_id(pid):
                raise TypeError(f"project id {pid!r} must be an int or a str")
            if not _is_amount(cost):
                raise ValueError(f"cost of {pid!r} must be a non-negative int, got {cost!r}")
    if not _is_amount(budget):
        raise ValueError(f"budget must be a non-negative int, got {budget!r}")
    # A ballot approves a project once, however often it lists it: every ballot becomes a frozenset.
    frozen = ballots if type(ballots) is list else list(ballots)
    if not set(map(type, frozen)) <= {frozenset}:
        frozen = [b if type(b) is frozenset else frozenset(b) for b in frozen]
    # Counting over one flat iterator runs in C: 100k ballots tally in a few hundredths of a second.
    votes = Counter(chain.from_iterable(frozen))
    if not votes.keys() <= costs.keys():
        unknown = votes.keys() - costs.keys()
        raise ValueError(f"ballots name unknown projects: {sorted(map(str, unknown))[:5]}")
    # Two stable sorts: by the tie-break, then by votes (descending keeps equal votes in tie-break order).
    # (Ids of one type sort by the "id" tie-break as they are: no key function to call.)
    order = sorted(costs) if key is _id_key and len(id_types) == 1 else sorted(costs, key=key)
    order.sort(key=votes.__getitem__, reverse=True)
    return _Inputs(dict(costs), frozen, budget, votes, order, key)


def _is_id(value: object) -> bool:
    return type(value) is int or isinstance(value, str)


def _is_amount(value: object) -> bool:
    return type(value) is int and value >= 0  # type: ignore[operator]


# --------------------------------------------------------------------------- greedy


def _greedy(
    inputs: _Inputs, skip: Collection[ProjectId], remaining: int
) -> tuple[list[ProjectId], int]:
    """Walk the vote order, funding each project that still fits; returns (funded, left).

    (``AllocationResult.trace`` tells the same walk step by step, from the selection.)
    """
    funded: list[ProjectId] = []
    costs = inputs.costs
    for pid in inputs.order:
        cost = costs[pid]
        if cost <= remaining and pid not in skip:
            remaining -= cost
            funded.append(pid)
    return funded, remaining


# --------------------------------------------------------------------------- equal shares


def _first_violation(d0: Fraction, ds: Fraction) -> Fraction | None:
    """For d(b') = d0 + ds·(b' - b) with d0 ≥ 0: how far above b it first reaches 0 (None: never)."""
    if ds >= 0:
        return None
    return d0 / -ds


def _fraction(value: Fraction) -> Fraction:
    return Fraction(int(value.numerator), int(value.denominator))


_EPS = 2.0**-52  # float64's relative rounding error bound (twice the unit roundoff)


def _dot(a, b) -> float:
    """Σ a·b over two numpy vectors. Long ones are summed in numpy's own loop, not by ``a @ b``:
    BLAS wakes threads for them (OpenBLAS above 10,000 entries), and on a busy machine waiting
    for those costs many times the sum itself. Short ones take BLAS's faster single thread."""
    return float(a @ b) if len(a) <= _BLAS_ONE_THREAD else float((a * b).sum())


_BLAS_ONE_THREAD = 8_192


def _float_price(x, m, total: int, cost: int) -> float | None:
    """ρ with Σ m·min(x, ρ) = cost in float64, for numpy arrays of budgets ``x`` and counts ``m``
    (``total`` = Σ m); None when the float sums fall short of the cost (ρ is then near max x).

    Newton's method from ρ = cost / total, below the root: the sum is concave and piecewise
    linear in ρ, so each step lands at or below the root, and on it once no budget lies between
    two iterates. That takes a few passes over ``x``; a sort is the fallback for many passes.
    """
    rho = cost / total
    rich = _dot(x > rho, m)
    for _ in range(_NEWTON_PASSES):
        if not rich:
            return None
        new = rho + (cost - _dot(_np.minimum(x, rho), m)) / rich
        rich, rich_before = _dot(x > new, m), rich
        if rich == rich_before:
            return new
        rho = new
    idx = _np.argsort(x)
    xs = x[idx]
    ms = m[idx]
    spent = _np.concatenate(((0.0,), _np.cumsum(ms * xs)[:-1]))
    rich_from = total - _np.concatenate(((0.0,), _np.cumsum(ms)[:-1]))
    ok = (cost - spent) <= xs * rich_from
    i = int(_np.argmax(ok))
    return float((cost - spent[i]) / rich_from[i]) if ok[i] else None


_NEWTON_PASSES = 10


_FAST_FROM = 2_000  # from this much work (see _MesData.work) on, Add1 uses the float runs


@dataclass(frozen=True, slots=True)
class _RunState:
    """An exact MES run between two rounds, for a later run at a higher start budget to go on from.

    Every value is an affine function of the start budget around ``base`` (value at ``base``,
    slope), as in :meth:`_MesData.run`; ``slack`` is how far above ``base`` the decisions of the
    rounds so far are proven unchanged. Within it, a run at another start budget would have made
    the same decisions in these rounds and reached this same state, values moved along their
    slopes: so that run can skip them. (The lower bounds of projects not evaluated stay lower
    bounds: see the comment on factors in ``run``.)
    """

    base: Fraction
    gval: list[Fraction]
    gslope: list[Fraction]
    gid: list[int] | object  # a list, or a numpy array with numpy
    rho: dict[ProjectId, tuple[Fraction, Fraction]]
    low: dict[ProjectId, Fraction]
    low_slope: dict[ProjectId, Fraction]
    remaining: frozenset[ProjectId]
    funded: tuple[ProjectId, ...]
    prices: tuple[tuple[Fraction, Fraction], ...]
    slack: Fraction | None

    def holds_at(self, b: Fraction) -> bool:
        """Whether a run at start budget ``b`` makes the same decisions up to this state."""
        return b >= self.base and (self.slack is None or b - self.base < self.slack)

    def at(self, b: Fraction) -> tuple:
        """Fresh working copies of the state, moved to start budget ``b`` (which it must hold at)."""
        d = b - self.base
        return (
            [v + s * d for v, s in zip(self.gval, self.gslope, strict=True)], list(self.gslope),
            self.gid.copy(),  # type: ignore[attr-defined]
            {p: (v + s * d, s) for p, (v, s) in self.rho.items()},
            {p: v + self.low_slope[p] * d for p, v in self.low.items()}, dict(self.low_slope),
            set(self.remaining), list(self.funded), [(v + s * d, s) for v, s in self.prices],
            None if self.slack is None else self.slack - d,
        )


class _MesData:
    """Ballots grouped into distinct types, indexed per project, for repeated MES runs."""

    def __init__(self, inputs: _Inputs) -> None:
        costs = inputs.costs
        self.costs = costs
        self.num_voters = len(inputs.ballots)
        # Only projects with a positive cost and at least one supporter take part: a zero-cost
        # project has zero cost utility, exactly as with pabutools' Cost_Sat.
        self.projects = [p for p in inputs.order if costs[p] > 0 and inputs.votes[p] > 0]
        taking_part = set(self.projects)
        left_out = inputs.votes.keys() - taking_part  # voted for, but cost 0
        if left_out:
            types = Counter(b if b.isdisjoint(left_out) else b - left_out for b in inputs.ballots)
        else:  # the usual case: ballots are their own types
            types = Counter(inputs.ballots)
        types.pop(frozenset(), None)
        self.type_mult: list[int] = list(types.values())
        self.supporters: dict[ProjectId, list[int]] = {p: [] for p in self.projects}
        for index, ballot in enumerate(types):
            for pid in ballot:
                self.supporters[pid].append(index)
        self.votes = {p: inputs.votes[p] for p in self.projects}
        ranked = sorted(self.projects, key=inputs.key)
        self.tie_rank = {p: i for i, p in enumerate(ranked)}
        self._np: dict | None = None  # numpy arrays for run_fast, built on first use
        # how much one exact run costs, roughly: supporter types summed over projects
        self.work = sum(len(s) for s in self.supporters.values())

    def run(
        self, b: Fraction, resume: _RunState | None = None, states: list[_RunState] | None = None,
    ) -> tuple[list[ProjectId], list[tuple[Fraction, Fraction]], Fraction | None]:
        """One MES run with per-voter budget ``b``.

        Returns the funded projects in order, each one's price ρ as an affine function of the
        start budget (value at ``b``, slope), and how far above ``b`` the run is proven unchanged
        (None: for ever).

        ``resume`` is a state of an earlier run that holds at ``b`` (:meth:`_RunState.holds_at`):
        the run goes on from that round instead of from the first. If ``states`` is given, the
        state before each round is appended to it, for later runs to resume from.
        """
        costs, mult, tie_rank = self.costs, self.type_mult, self.tie_rank
        use_np = _np is not None  # then group ids live in a numpy array, shifted by one
        if use_np:
            self._arrays()
            arrays = self._np
        if resume is not None:
            gval, gslope, gid, rho, low, low_slope, remaining, funded, prices, slack = resume.at(_Q(b))
            gid_np = gid
        else:
            # Voters with the same budget history form a group; a group's budget is the affine
            # function gval + gslope·(b' - b). Group -1 holds voters with nothing left.
            gval = [_Q(b)]
            gslope = [_Q(1)]
            gid = gid_np = (_np.ones(len(mult), dtype=_np.intp) if use_np  # group + 1; 0: nothing left
                            else [0] * len(mult))
            # Price of each project as an affine function of the start budget; where not evaluated
            # this round it is an earlier round's price, a lower bound (prices only rise in a run).
            rho = {p: (_Q(costs[p], self.votes[p]), _Q(0)) for p in self.projects}
            low = {p: rho[p][0] / costs[p] for p in self.projects}  # lower bounds on the factors
            low_slope = {p: _Q(0) for p in self.projects}  # and their slopes
            remaining = set(self.projects)
            funded = []
            prices = []
            slack = None  # distance above b until the first decision may change

        def tighten(delta: Fraction | None) -> None:
            nonlocal slack
            if delta is not None and (slack is None or delta < slack):
                slack = delta

        while remaining:
            if states is not None:
                states.append(_RunState(_Q(b), list(gval), list(gslope), gid.copy(), dict(rho), dict(low),
                                        dict(low_slope), frozenset(remaining), tuple(funded), tuple(prices), slack))
            best: ProjectId | None = None
            best_factor = _Q(0)
            best_split: tuple[list[int], list[int]] = ([], [])
            unaffordable: list[ProjectId] = []
            for pid in sorted(remaining, key=low.__getitem__):
                cost = costs[pid]
                if best is not None and low[pid] > best_factor:
                    break  # lower bounds only grow: nothing further on can beat the best
                counts: dict[int, int] = {}
                if use_np:
                    supp, m, _ = arrays[pid]
                    cnt = _np.bincount(gid_np[supp], weights=m).tolist()
                    for g, n in enumerate(cnt):
                        if n and g:
                            counts[g - 1] = int(n)
                else:
                    for t in self.supporters[pid]:
                        g = gid[t]
                        if g >= 0:
                            counts[g] = counts.get(g, 0) + mult[t]
                available = sum(n * gval[g] for g, n in counts.items())
                if available < cost:
                    unaffordable.append(pid)
                    # it stays unaffordable until its supporters' money reaches the cost
                    growth = sum(n * gslope[g] for g, n in counts.items())
                    tighten(_first_violation(cost - available, -growth))
                    continue
                price, slope, poor, rich = self._price(cost, counts, gval, gslope)
                rho[pid] = (price, slope)
                factor = low[pid] = price / cost
                low_slope[pid] = slope / cost
                if (
                    best is None
                    or factor < best_factor
                    or (factor == best_factor and tie_rank[pid] < tie_rank[best])
                ):
                    best, best_factor, best_split = pid, factor, (poor, rich)
            remaining.difference_update(unaffordable)
            if best is None:
                break
            best_value, best_slope = rho[best]
            best_cost = costs[best]
            # The winner's price must stay exact (it sets what everyone pays): it is, while each
            # supporter stays on its side of ρ.
            poor, rich = best_split
            for g in poor:
                tighten(_first_violation(best_value - gval[g], best_slope - gslope[g]))
            for g in rich:
                tighten(_first_violation(gval[g] - best_value, gslope[g] - best_slope))
            # The winner stays the winner while every other factor stays above it. For the others
            # the affine price is a lower bound whatever their supporters do: for any split into
            # poor and rich, (cost - Σ poor budgets) / #rich ≤ the true ρ.
            factor_slope = best_slope / best_cost
            for pid in remaining:
                if pid != best:  # (inlined tighten(_first_violation(...)) of the factors)
                    ds = low_slope[pid] - factor_slope
                    if ds < 0:
                        delta = (low[pid] - best_factor) / -ds
                        if slack is None or delta < slack:
                            slack = delta
            # Pay: the poor give everything, the rich give ρ each and form new groups.
            new_group = {g: -1 for g in poor}
            for g in rich:
                val, sl = gval[g] - best_value, gslope[g] - best_slope
                if val == 0 and sl == 0:
                    new_group[g] = -1
                else:
                    new_group[g] = len(gval)
                    gval.append(val)
                    gslope.append(sl)
            if use_np:
                lookup = _np.arange(len(gval) + 1, dtype=_np.intp)
                for g, g_new in new_group.items():
                    lookup[g + 1] = g_new + 1
                supp = arrays[best][0]
                gid_np[supp] = lookup[gid_np[supp]]
            else:
                for t in self.supporters[best]:
                    g = gid[t]
                    if g >= 0:
                        gid[t] = new_group[g]
            remaining.remove(best)
            funded.append(best)
            prices.append(rho[best])
        return funded, prices, slack

    @staticmethod
    def _price(
        cost: int, counts: dict[int, int], gval: list[Fraction], gslope: list[Fraction]
    ) -> tuple[Fraction, Fraction, list[int], list[int]]:
        """The smallest ρ with Σ min(budget, ρ) = cost; returns (ρ, its slope, poor, rich groups)."""
        order = sorted(counts, key=gval.__getitem__)
        rich_count = sum(counts.values())
        paid_value = _Q(0)
        paid_slope = _Q(0)
        split = len(order)
        for i, g in enumerate(order):
            # ρ = (cost - paid) / rich_count; compare without dividing
            if cost - paid_value <= gval[g] * rich_count:
                split = i
                break
            n = counts[g]
            paid_value += n * gval[g]
            paid_slope += n * gslope[g]
            rich_count -= n
        price = (cost - paid_value) / rich_count
        return price, -paid_slope / rich_count, order[:split], order[split:]

    # ------------------------------------------------------------------ fast exact run

    def _arrays(self) -> None:
        """Per-project numpy arrays of supporter types and their multiplicities (built once)."""
        if self._np is not None:
            return
        mult = self.type_mult
        self._np = {
            p: (_np.array(s, dtype=_np.intp), _np.array([mult[t] for t in s], dtype=_np.float64),
                sum(mult[t] for t in s))
            for p, s in self.supporters.items()
        }

    def run_fast(self, b: Fraction) -> tuple[list[ProjectId], list[Fraction]]:
        """The same MES run as :meth:`run` (same winners, same exact prices), without the slack.

        A voter type's budget is ``b`` minus the prices ρ_j of the rounds j in which it paid in
        full (``paid[t, j] = 1``), or 0 once it paid all it had. So every exact sum over voters is
        ``W·b - Σ_j w_j·ρ_j`` with integer weights that numpy counts exactly: a handful of
        rational operations per round, however many voters there are.

        Floats only filter: a decision is taken from float64 values only when it holds with a
        margin far above their worst rounding error; otherwise exact rationals decide. The
        winner's price and every budget are exact. Error bounds: each float budget is within
        ``e_b = 4(R + 2)·ε·b`` of the exact one (R rounds, each a subtraction of a value ≤ b;
        ε = 2⁻⁵²); a float sum of at most N (voters) terms, each ≤ its total, is off by at most
        N·ε of that total; Σ min(b_i, ρ) grows at least 1 per unit of ρ. So a float price is
        within N·(e_b + ε·cost) + ε·cost of the exact one; ``margin`` is 1024 times more.
        """
        self._arrays()
        arrays = self._np
        costs, tie_rank = self.costs, self.tie_rank
        num_types = len(self.type_mult)
        rounds_max = len(self.projects)
        eps = _EPS
        bf = float(b)
        err_b = 4.0 * (rounds_max + 2) * eps * bf  # bound on each float budget's error
        scale = 1024.0 * (self.num_voters + 4) * eps

        def margin(amount: float) -> float:  # bound on a float price's or sum's error, ×1024
            return scale * (8.0 * (rounds_max + 2) * bf + amount)

        fb = _np.full(num_types, bf, dtype=_np.float64)  # float budgets, 0 once spent
        alive = _np.ones(num_types, dtype=_np.float64)  # 1 while some money is left
        paid = _np.zeros((num_types, rounds_max), dtype=_np.uint8)  # 1: paid ρ_j in round j
        b = _Q(b)
        prices: list = []  # exact ρ_j

        def exact_sum(supp, m) -> Fraction:  # Σ m·budget over supp, exactly
            w = m * alive[supp]
            total = _Q(int(w.sum())) * b
            if prices:
                # einsum, not @: BLAS would start threads for long products (see _dot)
                for j, n in enumerate(_np.einsum("i,ij->j", w, paid[supp, : len(prices)]).tolist()):
                    if n:
                        total -= int(n) * prices[j]
            return total

        def budget_of(t: int) -> Fraction:
            if not alive[t]:
                return _Q(0)
            value = b
            for j in _np.flatnonzero(paid[t, : len(prices)]).tolist():
                value -= prices[j]
            return value

        def exact_price(pid: ProjectId, x, rho_f: float, d: float):
            """Exact ρ of pid from a float ρ within ``d - err_b`` of it: (ρ, poor, rich), the
            last two as indices into arrays[pid]."""
            supp, m, total = arrays[pid]
            cost = costs[pid]
            sure_poor = _np.flatnonzero(x < rho_f - d)
            unsure = _np.flatnonzero((x >= rho_f - d) & (x <= rho_f + d))
            paid_amount = exact_sum(supp[sure_poor], m[sure_poor])
            rich_count = total - int(m[sure_poor].sum())
            values = {int(i): budget_of(int(supp[i])) for i in unsure.tolist()}
            order = sorted(values, key=values.__getitem__)
            split = len(order)
            for k, i in enumerate(order):
                if cost - paid_amount <= values[i] * rich_count:
                    split = k
                    break
                n = int(m[i])
                paid_amount += n * values[i]
                rich_count -= n
            poor = _np.concatenate((sure_poor, _np.array(order[:split], dtype=_np.intp)))
            rich = _np.concatenate((_np.array(order[split:], dtype=_np.intp), _np.flatnonzero(x > rho_f + d)))
            return (cost - paid_amount) / rich_count, poor, rich

        # a lower bound on each factor (factors only rise during a run); at first 1/votes
        fprev = {p: (1.0 - 4 * eps) / arrays[p][2] for p in self.projects}
        remaining = set(self.projects)
        funded: list[ProjectId] = []

        while remaining:
            best_f = math.inf
            best_tol = 0.0
            evaluated: dict[ProjectId, tuple] = {}  # pid -> (float factor, float budgets, float ρ)
            drop: list[ProjectId] = []
            for pid in sorted(remaining, key=fprev.__getitem__):
                if fprev[pid] > best_f + best_tol:
                    break  # its factor is above the best one, whatever the rounding
                supp, m, total = arrays[pid]
                cost = costs[pid]
                x = fb[supp]
                avail = _dot(x, m)
                slack = margin(max(avail, cost))
                if avail < cost - slack:
                    drop.append(pid)
                    continue
                if avail <= cost + slack and exact_sum(supp, m) < cost:
                    drop.append(pid)
                    continue
                rho_f = _float_price(x, m, total, cost)
                if rho_f is not None:
                    d = margin(cost) + err_b
                else:  # the float sums miss the cost by a rounding error: ρ is near the top
                    rho_f = float(x.max())
                    d = 4 * slack + 2 * err_b
                f = rho_f / cost
                f_tol = d / cost * (1 + 4 * eps) + 4 * eps * f  # |f - exact factor| < f_tol
                fprev[pid] = f - f_tol
                evaluated[pid] = (f - f_tol, x, rho_f, d)
                if f + f_tol < best_f + best_tol:
                    best_f, best_tol = f, f_tol
            remaining.difference_update(drop)
            if not evaluated:
                break
            close = [p for p, (low, _, _, _) in evaluated.items() if low <= best_f + best_tol]
            exact = {p: exact_price(p, *evaluated[p][1:]) for p in close}
            best = min(close, key=lambda p: (exact[p][0] / costs[p], tie_rank[p]))
            price, poor, rich = exact[best]
            # Pay: the poor give everything, the rich give ρ each.
            supp = arrays[best][0]
            r = len(prices)
            prices.append(price)
            dead = supp[poor]
            alive[dead] = 0.0
            fb[dead] = 0.0
            payers = supp[rich]
            paid[payers, r] = 1
            fb[payers] -= float(price)
            if len(payers):  # a payer whose budget was exactly ρ has nothing left
                low = payers[fb[payers] <= err_b + 4 * eps * bf]
                for t in low.tolist():
                    if budget_of(t) == 0:
                        alive[t] = 0.0
                        fb[t] = 0.0
            remaining.discard(best)
            funded.append(best)
        return funded, prices

    def run_interval(self, b_lo: Fraction, b_hi: Fraction) -> list[ProjectId] | None:
        """The projects funded, in order, by the MES run of every start budget in [b_lo, b_hi];
        None when floats cannot prove that one order holds for the whole range.

        Each voter type's budget is an interval [lo, hi] that holds its exact budget for every
        start budget in the range, as long as all those runs funded the same projects so far. A
        price falls as its supporters' budgets rise, so it lies between the price at the ``hi``
        ends (ρ_min) and at the ``lo`` ends (ρ_max); a winner is proven when the upper bound of
        its factor is below the lower bound of every other factor. An exact tie is proven when
        all the projects in it are paid in equal parts ρ = cost / n by the n supporters with
        money left, whatever the start budget: their factors are 1 / n, and the tie-break
        decides as in a run. Paying leaves a budget in [max(0, lo - ρ_max), max(0, hi - ρ_min)];
        a voter with hi ≤ ρ_min is poor throughout and has exactly 0 left. Every bound is widened
        by its rounding error: ``lo`` and ``hi`` are floats as they stand, so a float sum or price
        is off by at most N·ε of its amount (see :meth:`run_fast`, without the budgets' error);
        ``margin`` is 64 times that.
        """
        self._arrays()
        arrays = self._np
        costs, tie_rank = self.costs, self.tie_rank
        eps = _EPS
        bf = float(b_hi)
        scale = 64 * (self.num_voters + 4) * eps

        def margin(amount: float) -> float:  # 64 times a float sum's or price's error bound
            return scale * amount

        pad = 4 * eps * bf  # more than the rounding error of a subtraction of budgets ≤ bf
        num_types = len(self.type_mult)
        lo = _np.full(num_types, float(b_lo) - pad)
        hi = _np.full(num_types, bf + pad)
        dead = _np.zeros(num_types, dtype=bool)  # exactly 0 left, whatever the start budget

        def price_range(pid: ProjectId) -> tuple[float, float] | None:
            """(ρ_min, ρ_max) of pid; ρ_max is inf if pid may be unaffordable, None if it is."""
            supp, m, total = arrays[pid]
            cost = costs[pid]
            x = hi[supp]
            avail = _dot(x, m)
            slack = margin(max(avail, cost))
            if avail < cost - slack:
                return None
            rho = _float_price(x, m, total, cost)
            rho_min = rho - margin(cost) if rho is not None else float(x.max()) - 4 * slack
            x = lo[supp]
            avail = _dot(x, m)
            rho = _float_price(x, m, total, cost) if avail > cost + margin(avail) else None
            return rho_min, (math.inf if rho is None else rho + margin(cost))

        def equal_parts(pid: ProjectId) -> int | None:
            """n if the n supporters with money all pay cost / n throughout, else None."""
            supp, m, _ = arrays[pid]
            alive = ~dead[supp]
            n = int(m[alive].sum())
            if n and bool((lo[supp[alive]] * n >= costs[pid] * (1 + 8 * eps)).all()):
                return n
            return None

        fprev = {p: (1.0 - 4 * eps) / arrays[p][2] for p in self.projects}  # factor lower bounds
        remaining = set(self.projects)
        funded: list[ProjectId] = []
        while remaining:
            best_hi = math.inf  # the least upper bound of a factor this round
            evaluated: dict[ProjectId, tuple[float, float]] = {}
            drop: list[ProjectId] = []
            for pid in sorted(remaining, key=fprev.__getitem__):
                if fprev[pid] > best_hi:
                    break
                prices = price_range(pid)
                if prices is None:
                    drop.append(pid)
                    continue
                evaluated[pid] = prices
                fprev[pid] = prices[0] / costs[pid] * (1 - 4 * eps)
                best_hi = min(best_hi, prices[1] / costs[pid] * (1 + 4 * eps))
            remaining.difference_update(drop)
            if not evaluated:
                break
            close = [p for p in evaluated if fprev[p] <= best_hi]
            if len(close) == 1:
                best = close[0]
                rho_min, rho_max = evaluated[best]
                if rho_max == math.inf:
                    return None
            else:
                parts = {p: equal_parts(p) for p in close}
                if None in parts.values():
                    return None
                best = min(close, key=lambda p: (-parts[p], tie_rank[p]))
                rho = costs[best] / parts[best]
                rho_min, rho_max = rho * (1 - 2 * eps), rho * (1 + 2 * eps)
            supp = arrays[best][0]
            x_lo, x_hi = lo[supp], hi[supp]
            gone = x_hi <= rho_min
            lo[supp] = _np.where(gone, 0.0, _np.maximum(x_lo - rho_max - pad, 0.0))
            hi[supp] = _np.where(gone, 0.0, _np.maximum(x_hi - rho_min + pad, 0.0))
            dead[supp[gone]] = True
            remaining.remove(best)
            funded.append(best)
        return funded

    def add1(
        self, budget: int, unit: int, *, jump: bool = True, fast: bool | None = None,
        deadline: float | None = None,
    ) -> tuple[list[ProjectId], list[Fraction], Fraction, int]:
        """Raise each voter's budget by ``unit`` per step; keep the last outcome within ``budget``.

        Returns the funded projects, their prices, the per-voter budget and the step count of
        the kept outcome. Three ways, all with the same result: ``fast`` settles whole ranges
        of steps with :meth:`run_interval` and single steps with :meth:`run_fast` (the default
        for large elections when numpy is there); otherwise
        :meth:`run` with jumps over the steps proven unchanged; with ``jump=False`` every step
        is run by :meth:`run` (slow; used to test the other two).
        """
        if fast is None:
            fast = jump and _np is not None and self.work >= _FAST_FROM
        if fast and _np is None:
            raise RuntimeError("fast Add1 needs numpy")
        start = _Q(budget, self.num_voters)
        last_step = budget // unit  # pabutools stops once the total passes budget·(voters + 1)
        if fast:
            step = self._add1_last_within(budget, start, unit, last_step, deadline)
            funded, prices = self.run_fast(start + step * unit)
            return funded, [_fraction(v) for v in prices], _fraction(start + step * unit), step
        kept: tuple[list[ProjectId], list[tuple[Fraction, Fraction]], Fraction, int] | None = None
        step = 0
        states: list[_RunState] = []  # before each round of the last run; each valid from its own base
        while True:
            _check_deadline(deadline)
            b = start + step * unit
            if jump:  # go on from the deepest round whose decisions still hold at b
                depth = next((i for i in range(len(states) - 1, -1, -1) if states[i].holds_at(b)), -1)
                resume = states[depth] if depth >= 0 else None
                del states[max(depth, 0):]
                funded, prices_affine, slack = self.run(b, resume, states)
            else:
                funded, prices_affine, slack = self.run(b)
            if sum(self.costs[p] for p in funded) > budget:
                break  # never at step 0: MES with the real budget cannot overspend
            if not jump:
                covered = step
            elif slack is None:
                covered = last_step
            else:  # every step strictly below b + slack has this same outcome
                covered = max(step, math.ceil((b + slack - start) / unit) - 1)
            covered = min(covered, last_step)
            kept = (funded, prices_affine, b, covered)
            if covered >= last_step:
                break
            step = covered + 1
        assert kept is not None
        funded, prices_affine, b, covered = kept
        voter_budget = start + covered * unit
        exact = [_fraction(v + s * (voter_budget - b)) for v, s in prices_affine]
        return funded, exact, _fraction(voter_budget), covered

    def _add1_last_within(
        self, budget: int, start: Fraction, unit: int, last_step: int, deadline: float | None = None
    ) -> int:
        """The last Add1 step before the first whose outcome costs more than ``budget``.

        Outcomes change at few steps, so ranges of steps are settled at once: a range whose
        runs :meth:`run_interval` proves to fund the same projects is within the budget or over
        it as a whole. The range grows by half after a proof and halves after a failure. Single
        steps are proven the same way (floats suffice unless there is a near-tie), else run
        exactly. Where outcomes change at almost every step (large elections), ranges are tried
        again only after 1, 2, 4, … single steps, so that failed proofs cost little.
        """
        kept = -1
        step, width = 0, 2
        singles, wait = 0, 1  # single steps to run before the next range; the next such wait
        while step <= last_step:
            _check_deadline(deadline)
            end = step if singles else min(step + width, last_step + 1) - 1
            ranged = end > step
            b = start + step * unit
            funded = self.run_interval(b, start + end * unit)
            if funded is None and ranged:
                width //= 2
                if width == 1:  # not even two steps at once: single steps for a while
                    singles, wait, width = wait, 2 * wait, 2
                continue
            if funded is None:
                funded = self.run_fast(b)[0]
            if sum(self.costs[p] for p in funded) > budget:
                break  # never at step 0: MES with the real budget cannot overspend
            kept, step = end, end + 1
            if ranged:
                wait, width = 1, width + width // 2
            elif singles:
                singles -= 1
        assert kept >= 0
        return kept


# --------------------------------------------------------------------------- public API


def allocate(
    costs: Mapping[ProjectId, int],
    ballots: Iterable[Collection[ProjectId]],
    budget: int,
    rule: Rule = "greedy",
    tie_break: TieBreak = "id",
    seed: int | str | None = None,
    *,
    currency_unit: int = ORE_PER_KRONE,
    deadline: float | None = None,
) -> AllocationResult:
    """Allocate ``budget`` among ``costs`` by the approval ``ballots`` under ``rule``.

    ``costs`` maps every project of the round to its cost (int, e.g. øre); ``ballots`` are sets of
    approved project ids. ``currency_unit`` is the MES Add1 step per voter in the same units
    (100 øre = 1 kr.). ``deadline`` (a ``time.monotonic()`` value) bounds Equal Shares, which takes
    seconds on the largest Pabulib elections: past it, :class:`OutOfTime` is raised.
    """
    return _allocate(_prepare(costs, ballots, budget, tie_break_key(tie_break, costs, seed)),
                     rule, tie_break, seed, currency_unit, deadline)


def _allocate(
    inputs: _Inputs, rule: Rule, tie_break: TieBreak, seed: int | str | None, currency_unit: int,
    deadline: float | None = None,
) -> AllocationResult:
    voter_budget: Fraction | None = None
    increments: int | None = None
    prices: list[Fraction] = []
    if rule == "greedy":
        selected, left = _greedy(inputs, (), inputs.budget)
    elif rule == "mes":
        if currency_unit <= 0:
            raise ValueError("currency_unit must be positive")
        selected = []
        data = _MesData(inputs)
        if data.num_voters and data.projects:
            selected, prices, voter_budget, increments = data.add1(inputs.budget, currency_unit, deadline=deadline)
        spent = sum(inputs.costs[p] for p in selected)
        more, left = _greedy(inputs, set(selected), inputs.budget - spent)
        selected += more
    else:
        raise ValueError(f"unknown rule {rule!r}; use one of {RULES}")
    return AllocationResult(
        rule=rule,
        tie_break=tie_break,
        seed=None if seed is None else str(seed),
        budget=inputs.budget,
        num_ballots=len(inputs.ballots),
        selected=tuple(selected),
        order=tuple(inputs.order),
        tally=MappingProxyType(inputs.votes),
        costs=MappingProxyType(inputs.costs),
        remainder=left,
        mes_voter_budget=voter_budget,
        mes_increments=increments,
        mes_prices=tuple(prices),
    )


def compare_rules(
    costs: Mapping[ProjectId, int],
    ballots: Iterable[Collection[ProjectId]],
    budget: int,
    tie_break: TieBreak = "id",
    seed: int | str | None = None,
    rules: Iterable[Rule] = RULES,
    *,
    currency_unit: int = ORE_PER_KRONE,
    deadline: float | None = None,
) -> dict[Rule, AllocationResult]:
    """What each rule would give on the same data (the ballots are tallied once).

    With a ``deadline`` (see :func:`allocate`) a rule that does not finish in time raises OutOfTime.
    """
    inputs = _prepare(costs, ballots, budget, tie_break_key(tie_break, costs, seed))
    return {rule: _allocate(inputs, rule, tie_break, seed, currency_unit, deadline) for rule in rules}


def inputs_hash(
    costs: Mapping[ProjectId, int],
    ballots: Iterable[Collection[ProjectId]],
    budget: int,
    rule: Rule,
    tie_break: TieBreak,
    seed: int | str | None = None,
    *,
    currency_unit: int = ORE_PER_KRONE,
) -> str:
    """SHA-256 (hex) of a canonical form of everything the allocation depends on.

    Ballot order and the order inside a ballot do not matter (ballots are anonymous sets); ids
    keep their type, so project ``7`` and project ``"7"`` hash differently.
    """
    canonical = {
        "format": 1,
        "costs": sorted(([pid, cost] for pid, cost in costs.items()), key=lambda pc: _id_key(pc[0])),
        "ballots": sorted(sorted(ballot, key=_id_key) for ballot in map(set, ballots)),
        "budget": budget,
        "rule": rule,
        "tie_break": tie_break,
        "seed": None if seed is None else str(seed),
        "currency_unit": currency_unit,
    }
    text = json.dumps(canonical, separators=(",", ":"), ensure_ascii=False, default=_no_json)
    return hashlib.sha256(text.encode()).hexdigest()


def _no_json(value: object) -> object:
    raise TypeError(f"cannot hash {value!r}")


# --------------------------------------------------------------------------- protocol text
#
# The protocol explains the result to a hall: one line per project on why it was or was not
# funded, in the order the projects came up (as equalshares.net's explainer does), under a line
# that states the rule. Equal Shares needs the ballots for that: who paid what, and what each
# project's voters had left, come from replaying the kept outcome's payments (no new decisions).

_TEXTS = {
    "da": {
        "vote": "stemme",
        "votes": "stemmer",
        "voter": "vælger",
        "voters": "vælgere",
        "step": "{n}. {name} ({votes}, {cost}): {reason}",
        "then": " Derefter {left} tilbage i puljen.",
        "greedy_header": "Flest stemmer først: projekterne tages i rækkefølge efter stemmetal, og hvert projekt "
        "får hele sit beløb, hvis der er nok tilbage i puljen.",
        "funded": "bevilget, for der var {before} tilbage i puljen, da det var projektets tur.",
        "skipped": "ikke bevilget, for da det var projektets tur, var der kun {before} tilbage i puljen.",
        "mes_intro": "Lige andele: puljen på {pot} delt ligeligt mellem {voters} giver {start} til hver.",
        "mes_raised": " For at kunne bruge mere af puljen blev hver vælgers andel hævet fra {start} "
        "til {voter_budget}.",
        "mes_rule": " Hver vælger betaler kun for projekter, vedkommende har stemt på, og et projekt "
        "bevilges, når dets vælgere kan betale det sammen.",
        "mes_funded": "bevilget – dets {supporters} betalte {price} hver.",
        "mes_funded_uneven": "bevilget – dets {supporters} betalte højst {price} hver; {emptied}.",
        "emptied_one": "1 af dem betalte det sidste af sin andel",
        "emptied_many": "{k} af dem betalte det sidste af deres andele",
        "about": "ca. ",
        "completion_header": "Derefter fordeles resten af puljen efter stemmetal: hvert projekt får hele sit "
        "beløb, hvis der er nok tilbage.",
        "completion_skipped": "ikke bevilget – dets {supporters} havde kun {have} tilbage tilsammen, og bagefter "
        "var der kun {before} tilbage i puljen.",
        "completion_funded": "bevilget efter stemmetal – dets {supporters} havde kun {have} tilbage tilsammen, "
        "men der var stadig {before} tilbage i puljen.",
        "nobody_skipped": "ikke bevilget – ingen stemte på projektet, og der var kun {before} tilbage i puljen.",
        "nobody_funded": "bevilget efter stemmetal – ingen stemte på projektet, men der var stadig {before} "
        "tilbage i puljen.",
        "remainder": "Ikke fordelt: {left}",
    },
    "en": {
        "vote": "vote",
        "votes": "votes",
        "voter": "voter",
        "voters": "voters",
        "step": "{n}. {name} ({votes}, {cost}): {reason}",
        "then": " Then {left} left in the pot.",
        "greedy_header": "Most votes first: the projects are taken in order of votes, and each gets its whole "
        "amount if enough is left in the pot.",
        "funded": "funded, as {before} was left in the pot when its turn came.",
        "skipped": "not funded, as only {before} was left in the pot when its turn came.",
        "mes_intro": "Equal shares: the pot of {pot} split evenly between {voters} gives {start} each.",
        "mes_raised": " To spend more of the pot, each voter's share was raised from {start} to {voter_budget}.",
        "mes_rule": " Each voter pays only for projects they voted for, and a project is funded when its "
        "voters can pay for it together.",
        "mes_funded": "funded – its {supporters} paid {price} each.",
        "mes_funded_uneven": "funded – its {supporters} paid at most {price} each; {emptied}.",
        "emptied_one": "1 of them paid the last of their share",
        "emptied_many": "{k} of them paid the last of their shares",
        "about": "about ",
        "completion_header": "Then the rest of the pot goes by votes: each project gets its whole amount if "
        "enough is left.",
        "completion_skipped": "not funded – its {supporters} had only {have} left together, and after that only "
        "{before} was left in the pot.",
        "completion_funded": "funded by votes – its {supporters} had only {have} left together, but {before} "
        "was still left in the pot.",
        "nobody_skipped": "not funded – nobody voted for it, and only {before} was left in the pot.",
        "nobody_funded": "funded by votes – nobody voted for it, but {before} was still left in the pot.",
        "remainder": "Not allocated: {left}",
    },
}


class Explanation(NamedTuple):
    """The protocol's lines, and for each project the reason it was or was not funded (one sentence)."""

    lines: list[str]
    reasons: dict[ProjectId, str]


class _Payments(NamedTuple):
    """What Equal Shares' kept outcome asked of the voters (replayed from the ballots)."""

    emptied: Mapping[ProjectId, int]  # per project funded by equal shares: supporters who paid all they had
    left_together: Mapping[ProjectId, Fraction]  # per other project: its supporters' money left at the end


def _replay_payments(result: AllocationResult, ballots: Iterable[Collection[ProjectId]]) -> _Payments:
    """Replay the payments of the kept Equal Shares outcome: every voter starts with the kept
    per-voter budget, and each supporter of a funded project pays ``min(money left, price)``."""
    types = Counter(frozenset(ballot) for ballot in ballots)
    share = result.mes_voter_budget
    if share is None:  # equal shares never ran (no voters, or no project anyone could pay for)
        share = Fraction(result.budget, result.num_ballots) if result.num_ballots else Fraction(0)
    money = {ballot: Fraction(share) for ballot in types}
    emptied: dict[ProjectId, int] = {}
    for pid, price in zip(result.selected, result.mes_prices):
        emptied[pid] = 0
        for ballot, count in types.items():
            if pid in ballot:
                if money[ballot] < price:
                    emptied[pid] += count
                money[ballot] -= min(money[ballot], price)
    left_together = {
        pid: sum((money[b] * count for b, count in types.items() if pid in b), Fraction(0))
        for pid in result.order if pid not in emptied
    }
    return _Payments(emptied, left_together)


def explain(
    result: AllocationResult,
    names: Mapping[ProjectId, str] | None = None,
    money: Callable[[int], str] = format_ore,
    lang: str = "da",
    ballots: Iterable[Collection[ProjectId]] | None = None,
    *,
    currency_unit: int = ORE_PER_KRONE,
) -> Explanation:
    """The protocol as text lines in Danish (``lang="da"``) or English (``"en"``): the rule, then
    one line per project on why it was or was not funded, then what was not allocated; and each
    project's reason alone, as a sentence to show beside it.

    ``names`` maps ids to titles (missing ones show the id); ``money`` formats an amount in the
    result's units, by default øre as "18.500 kr.". Equal Shares needs the ``ballots`` the result
    was computed from (to say what each project's voters paid, or had left). What one voter paid is
    rounded up and money left down to a whole ``currency_unit`` (1 kr.), so "paid at most" and
    "had only" stay true.
    """
    texts = _TEXTS[lang]
    names = names or {}
    payments: _Payments | None = None
    lines: list[str] = []
    reasons: dict[ProjectId, str] = {}
    if result.rule == "mes":
        if ballots is None:
            raise TypeError("explaining an Equal Shares result needs its ballots")
        payments = _replay_payments(result, ballots)
        lines.extend(_mes_header(result, texts, money, currency_unit))
    else:
        lines.append(texts["greedy_header"])

    def counted(number: int, one: str, many: str) -> str:
        return f"{number} {texts[one if number == 1 else many]}"

    before = result.budget
    previous_phase: Phase | None = None
    for step in result.trace:
        if step.phase == "completion" and previous_phase != "completion":
            lines.append(texts["completion_header"])
        previous_phase = step.phase
        fields: dict[str, object] = {"supporters": counted(step.votes, "voter", "voters"), "before": money(before)}
        if step.phase == "mes" and payments is not None and step.price is not None:
            price = math.ceil(step.price / currency_unit) * currency_unit
            emptied = payments.emptied[step.project_id]
            fields["price"] = ("" if emptied or price == step.price else texts["about"]) + money(price)
            template = "mes_funded_uneven" if emptied else "mes_funded"
            fields["emptied"] = texts["emptied_one" if emptied == 1 else "emptied_many"].format(k=emptied)
        elif step.phase == "completion" and payments is not None and step.cost > 0:
            fields["have"] = money(math.floor(payments.left_together[step.project_id] / currency_unit) * currency_unit)
            template = f"{'completion' if step.votes else 'nobody'}_{step.decision}"
        else:
            template = step.decision
        reason = tidy_periods(texts[template].format(**fields))
        reasons[step.project_id] = reason[:1].upper() + reason[1:]
        line = texts["step"].format(
            n=step.number, name=names.get(step.project_id, str(step.project_id)),
            votes=counted(step.votes, "vote", "votes"), cost=money(step.cost), reason=reason,
        )
        if step.decision == "funded":
            line += tidy_periods(texts["then"].format(left=money(step.remaining)))
        lines.append(line)
        before = step.remaining
    lines.append(texts["remainder"].format(left=money(result.remainder)))
    return Explanation(lines, reasons)


def format_trace(result: AllocationResult, *args: Any, **kwargs: Any) -> list[str]:
    """The protocol's text lines: :func:`explain` (same arguments) without the reasons."""
    return explain(result, *args, **kwargs).lines


def _mes_header(
    result: AllocationResult, texts: Mapping[str, str], money: Callable[[int], str], unit: int,
) -> list[str]:
    """The rule of Equal Shares in one line: each voter's share, and how far it was raised."""
    voters = result.num_ballots
    if not voters:
        return []
    start = Fraction(result.budget, voters)
    kept = result.mes_voter_budget if result.mes_voter_budget is not None else start
    text = texts["mes_intro"]
    if kept > start:
        text += texts["mes_raised"]
    text += texts["mes_rule"]
    return [tidy_periods(text.format(
        pot=money(result.budget), voters=f"{voters} {texts['voter' if voters == 1 else 'voters']}",
        start=money(math.floor(start / unit) * unit), voter_budget=money(math.floor(kept / unit) * unit),
    ))]


def format_trace_da(
    result: AllocationResult,
    names: Mapping[ProjectId, str] | None = None,
    money: Callable[[int], str] = format_ore,
    ballots: Iterable[Collection[ProjectId]] | None = None,
    *,
    currency_unit: int = ORE_PER_KRONE,
) -> list[str]:
    """The protocol lines in Danish (shorthand for ``format_trace(..., lang="da")``)."""
    return format_trace(result, names, money, "da", ballots, currency_unit=currency_unit)
