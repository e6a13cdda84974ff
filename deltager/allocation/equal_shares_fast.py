"""Equal Shares' float engines: the same runs as :meth:`_MesData.run`, for large elections.

:meth:`_FloatRuns.run_fast` is one exact run whose sums over voters are a few rational operations
on integer counts (float64 only picks the candidates); :meth:`_FloatRuns.run_interval` proves
that every start budget in a range funds the same projects. Add1 uses them from
``equal_shares._FAST_FROM`` on; what they buy, measured, is in ``README.md`` beside this file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

from deltager.allocation.types import _Q, ProjectId, _check_deadline

try:  # numpy is needed here; without it equal_shares runs the exact engine alone
    import numpy as _np
except ImportError:  # pragma: no cover
    _np = None


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


class _FloatRuns:
    """The float engines over the data of :class:`~deltager.allocation.equal_shares._MesData`,
    which inherits them (the attributes below are its own)."""

    costs: Mapping[ProjectId, int]
    num_voters: int
    projects: list[ProjectId]
    type_mult: list[int]
    supporters: dict[ProjectId, list[int]]
    tie_rank: dict[ProjectId, int]
    _np: dict | None

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
