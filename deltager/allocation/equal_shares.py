"""The Method of Equal Shares with Add1, exactly as pabutools and equalshares.net run it.

:class:`_MesData` groups the ballots into types once; :meth:`_MesData.run` is one exact MES run
whose values are affine in the start budget, so it also proves how far the budget can rise before
its outcome changes; :meth:`_MesData.add1` raises the budget step by step (jumping what is
proven). The rule, and why the search is fast, are explained in ``README.md`` beside this file.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

from deltager.allocation.equal_shares_fast import _FloatRuns
from deltager.allocation.inputs import _Inputs
from deltager.allocation.types import _Q, ProjectId, _check_deadline

try:  # numpy only speeds things up (run_fast, run_interval, and run's tallies); run() does all without it
    import numpy as _np
except ImportError:  # pragma: no cover
    _np = None


def _first_violation(d0: Fraction, ds: Fraction) -> Fraction | None:
    """For d(b') = d0 + ds·(b' - b) with d0 ≥ 0: how far above b it first reaches 0 (None: never)."""
    if ds >= 0:
        return None
    return d0 / -ds


def _fraction(value: Fraction) -> Fraction:
    return Fraction(int(value.numerator), int(value.denominator))


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


class _MesData(_FloatRuns):
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
