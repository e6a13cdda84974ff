"""The values an allocation takes and gives: ids, rules, tie-breaks, the result, its trace lines.

Immutable and cheap to build; the definitions of votes, rank and the tie-breaks are in
``README.md`` beside this file.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Literal, NamedTuple, TypeAlias

try:  # gmpy2's exact rationals are several times faster than fractions.Fraction; same values
    from gmpy2 import mpq as _Q
except ImportError:  # pragma: no cover - the standard library is always enough
    _Q = Fraction

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
