"""Greedy by votes: walk the vote order and fund each project whose whole cost still fits.

The rule Aarhus and CONSUL use, and Equal Shares' completion (see ``README.md``).
"""

from __future__ import annotations

from collections.abc import Collection

from deltager.allocation.inputs import _Inputs
from deltager.allocation.types import ProjectId


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
