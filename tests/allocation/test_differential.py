"""Our rules select exactly what pabutools, the reference implementation, selects.

Greedy is compared with ``greedy_utilitarian_welfare(..., sat_class=Cost_Sat)`` (density =
votes), equal shares with Add1 plus greedy completion exactly as in the allocation docstring.

pabutools is slow on big files (its Add1 loop reruns MES from scratch for every step), so here
greedy is compared on files with at most 12,000 voters and MES on files with at most 1,000;
``bench/bench_allocation.py`` compares every file under a time box (Swiecie, Wieliczka,
Amsterdam_631, Toulouse_2022, Mokotow, Budapest, Katowice, Warszawa_2026, Lodz for MES).
Cumulative files are compared under the approval reading (every listed project approved),
which is what pabutools' ``Cost_Sat`` sees in a cumulative ballot.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

pytest.importorskip("pabutools", reason="pabutools (test-only reference implementation) is not installed")

from pabutools.election import Cost_Sat, parse_pabulib  # noqa: E402
from pabutools.election.pabulib import parse_pabulib_from_string  # noqa: E402
from pabutools.rules import (  # noqa: E402
    exhaustion_by_budget_increase,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
)

from deltager import pabulib  # noqa: E402
from deltager.allocation import allocate  # noqa: E402

PABULIB = Path(__file__).parents[2].parent / "shared" / "pabulib"
GREEDY_MAX_VOTERS = 12_000
MES_MAX_VOTERS = 1_000


def pabutools_selection(instance, profile, rule: str) -> set[str]:
    """The ids pabutools selects, called exactly as the issue specifies."""
    if rule == "greedy":
        outcome = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    else:
        mes = exhaustion_by_budget_increase(
            instance,
            profile,
            method_of_equal_shares,
            {"sat_profile": profile.as_sat_profile(Cost_Sat)},
            budget_step=profile.num_ballots(),
            exhaustive_stop=False,
        )
        outcome = greedy_utilitarian_welfare(
            instance, profile, sat_class=Cost_Sat, initial_budget_allocation=mes
        )
    return {project.name for project in outcome}


def num_voters(path: Path) -> int:
    """META num_votes, read without parsing the whole file."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.reader(handle, delimiter=";"):
            if row and row[0].strip() == "num_votes":
                return int(row[1])
            if row and row[0].strip().lower() == "projects":
                break
    raise AssertionError(f"{path.name} has no num_votes")


def cases() -> list[tuple[Path, str]]:
    if not PABULIB.is_dir():
        return []
    files = sorted(PABULIB.glob("*.pb"))
    voters = {path: num_voters(path) for path in files}
    return [(p, "greedy") for p in files if voters[p] <= GREEDY_MAX_VOTERS] + [
        (p, "mes") for p in files if voters[p] <= MES_MAX_VOTERS
    ]


@pytest.mark.skipif(not PABULIB.is_dir(), reason=f"real Pabulib files not found at {PABULIB}")
@pytest.mark.parametrize(("path", "rule"), cases(), ids=lambda v: v.stem if isinstance(v, Path) else v)
def test_real_files_agree_with_pabutools(path, rule):
    instance, profile = parse_pabulib(str(path))
    ours = pabulib.allocate_election(pabulib.load(path), rule)
    assert set(ours.selected) == pabutools_selection(instance, profile, rule)
    assert len(ours.selected) == len(set(ours.selected))
    assert ours.budget - ours.remainder == sum(ours.granted.values())


def test_the_real_file_selection_covers_both_rules():
    if not PABULIB.is_dir():
        pytest.skip(f"real Pabulib files not found at {PABULIB}")
    rules = {rule for _, rule in cases()}
    assert rules == {"greedy", "mes"}


def random_election(rng: random.Random) -> tuple[dict[int, int], list[set[int]], int]:
    """A small random vote in øre, with many ties (few distinct costs and popularities)."""
    projects = range(1, rng.randint(2, 8))
    costs = {p: 100 * rng.choice([5, 10, 10, 15, 20, rng.randint(1, 40)]) for p in projects}
    popularity = {p: rng.choice([0.2, 0.4, 0.4, 0.7]) for p in projects}
    ballots = [{p for p in projects if rng.random() < popularity[p]} for _ in range(rng.randint(1, 14))]
    # budgets with and without øre, so decimal budgets are compared too
    budget = rng.choice([100 * rng.randint(5, 60), rng.randint(500, 6000)])
    return costs, ballots, budget


@pytest.mark.parametrize("rule", ["greedy", "mes"])
def test_random_elections_agree_with_pabutools(rule):
    rng = random.Random(8_2025)
    for _ in range(200):
        costs, ballots, budget = random_election(rng)
        text = pabulib.export_approval(
            projects=[(p, cost, f"Projekt {p}") for p, cost in costs.items()],
            ballots=ballots, budget=budget, description="random", instance="test",
            date_begin="2025-01-01", date_end="2025-01-01", unit="test",
        )
        instance, profile = parse_pabulib_from_string(text)
        ours = allocate(costs, ballots, budget, rule)  # øre, Add1 step 100 øre = 1 unit
        expected = pabutools_selection(instance, profile, rule)
        assert {str(p) for p in ours.selected} == expected, (costs, ballots, budget)
