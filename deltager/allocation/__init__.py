"""Allocate a participatory budget by votes: greedy by votes, or the Method of Equal Shares.

Pure: values in, an immutable :class:`AllocationResult` out. No database, no Flask, no floats
where a decision is made. Money is an ``int`` in the smallest unit (øre in the app); the same
inputs always give the same result, and :func:`inputs_hash` fingerprints those inputs.

The rules, the tie-breaks and how Equal Shares is made fast are explained in ``README.md`` beside
this file. The modules: ``types`` (what goes in and comes out), ``inputs`` (checking, tallying,
tie-breaks, the fingerprint), ``greedy``, ``equal_shares`` (the exact engine and Add1) with
``equal_shares_fast`` (its float engines for large elections), and ``trace`` (the protocol's
text in Danish and English).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from fractions import Fraction
from types import MappingProxyType

from deltager.allocation.equal_shares import _MesData
from deltager.allocation.greedy import _greedy
from deltager.allocation.inputs import _Inputs, _prepare, inputs_hash, tie_break_key
from deltager.allocation.trace import Explanation, explain, format_trace, format_trace_da
from deltager.allocation.types import (
    ORE_PER_KRONE,
    RULES,
    TIE_BREAKS,
    AllocationResult,
    Decision,
    Line,
    OutOfTime,
    Phase,
    ProjectId,
    Rule,
    TieBreak,
    TraceStep,
)

__all__ = [
    "ORE_PER_KRONE", "RULES", "TIE_BREAKS", "AllocationResult", "Decision", "Explanation", "Line",
    "OutOfTime", "Phase", "ProjectId", "Rule", "TieBreak", "TraceStep", "allocate", "compare_rules",
    "explain", "format_trace", "format_trace_da", "inputs_hash", "tie_break_key",
]


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
