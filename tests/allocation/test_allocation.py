"""The allocation engine on small hand-checked cases: greedy, equal shares, ties, trace, text."""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from fractions import Fraction

import pytest

from deltager.allocation import (
    AllocationResult,
    allocate,
    compare_rules,
    explain,
    format_trace,
    format_trace_da,
    inputs_hash,
    tie_break_key,
)
from deltager.allocation.equal_shares import _MesData
from deltager.allocation.inputs import _prepare


def ballots_from_votes(votes: dict, voters: int | None = None) -> list[frozenset]:
    """Ballots giving each project exactly ``votes[pid]`` votes (voter i approves pid if i < votes)."""
    voters = voters if voters is not None else max(votes.values(), default=0)
    return [frozenset(pid for pid, n in votes.items() if i < n) for i in range(voters)]


# ------------------------------------------------------------------ greedy


def test_greedy_skips_what_does_not_fit_and_goes_on():
    costs = {1: 50, 2: 40, 3: 30, 4: 10}
    result = allocate(costs, ballots_from_votes({1: 4, 2: 3, 3: 2, 4: 1}), 70)
    assert result.selected == (1, 4)
    assert result.remainder == 10
    assert [(s.project_id, s.decision, s.remaining) for s in result.trace] == [
        (1, "funded", 20),
        (2, "skipped", 20),
        (3, "skipped", 20),
        (4, "funded", 10),
    ]
    assert dict(result.granted) == {1: 50, 2: 0, 3: 0, 4: 10}
    assert dict(result.rank) == {1: 1, 2: 2, 3: 3, 4: 4}


def test_a_ballot_that_lists_a_project_twice_approves_it_once():
    costs = {1: 60, 2: 50}
    listed_twice = allocate(costs, iter([[1, 1], (2,), {2}]), 100)  # any iterable of any collections
    assert dict(listed_twice.votes) == {1: 1, 2: 2}
    assert listed_twice.selected == (2,)


def test_greedy_funds_an_exact_fit():
    result = allocate({1: 60, 2: 40}, ballots_from_votes({1: 2, 2: 1}), 100)
    assert result.selected == (1, 2)
    assert result.remainder == 0


def test_zero_vote_projects_are_funded_last_if_they_fit():
    # as pabutools' greedy does: after every voted project, leftover money still funds them
    result = allocate({"a": 70, "b": 20, "c": 50}, [{"a"}, {"a"}], 100)
    assert result.selected == ("a", "b")
    assert result.votes["b"] == 0 and result.rank["b"] == 2


def test_empty_ballots_and_no_ballots_fund_by_tie_break():
    for ballots in ([], [set(), set()]):
        result = allocate({3: 10, 1: 10, 2: 10}, ballots, 20)
        assert result.selected == (1, 2)
        assert result.num_ballots == len(ballots)


@pytest.mark.parametrize(
    ("tie_break", "expected_first"),
    [("id", "b10"), ("cost", "c9")],
)
def test_ties_follow_the_tie_break(tie_break, expected_first):
    costs = {"c9": 30, "b10": 60, "a2": 60}
    ballots = [{"c9", "b10"}, {"c9", "b10", "a2"}]  # b10 and c9: 2 votes each, a2: 1
    result = allocate(costs, ballots, 60, "greedy", tie_break)
    assert result.trace[0].project_id == expected_first


def test_id_tie_break_compares_strings_as_strings_and_ints_as_numbers():
    assert allocate({"9": 5, "10": 5}, [], 5).selected == ("10",)
    assert allocate({9: 5, 10: 5}, [], 5).selected == (9,)


def test_lottery_is_the_documented_sha256_draw_and_needs_a_seed():
    costs = {pid: 1 for pid in range(1, 9)}
    for seed in (1, "2025-aarhus"):
        expected = sorted(costs, key=lambda pid: hashlib.sha256(f"{seed}\n{json.dumps(pid)}".encode()).hexdigest())
        result = allocate(costs, [], 8, "greedy", "lottery", seed)
        assert list(result.selected) == expected
        assert result.seed == str(seed)
    draws = {allocate(costs, [], 8, "greedy", "lottery", s).selected for s in range(5)}
    assert len(draws) > 1
    with pytest.raises(ValueError, match="seed"):
        allocate(costs, [], 8, "greedy", "lottery")


def test_every_tie_break_is_a_total_order():
    costs = {1: 5, 2: 5, "x": 5}
    for tie_break in ("id", "cost", "lottery"):
        key = tie_break_key(tie_break, costs, seed=3)
        keys = [key(pid) for pid in costs]
        assert len(set(keys)) == len(keys)
        assert sorted(costs, key=key) == sorted(costs, key=key)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="unknown projects"):
        allocate({1: 10}, [{1, 2}], 10)
    with pytest.raises(ValueError, match="cost"):
        allocate({1: -1}, [], 10)
    with pytest.raises(ValueError, match="cost"):
        allocate({1: 2.5}, [], 10)  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="rule"):
        allocate({1: 1}, [], 10, "borda")  # type: ignore[arg-type]


# ------------------------------------------------------------------ equal shares


def minority_case() -> tuple[dict, list[frozenset], int]:
    """Ten voters, 100 each: seven like A, B, C (400 each), three like D (300)."""
    costs = {"A": 400, "B": 400, "C": 400, "D": 300}
    ballots = [frozenset("ABC")] * 7 + [frozenset("D")] * 3
    return costs, ballots, 1000


def test_greedy_gives_the_majority_everything_it_can():
    costs, ballots, budget = minority_case()
    assert allocate(costs, ballots, budget).selected == ("A", "B")


def test_equal_shares_gives_the_minority_its_share():
    # b = 100: A costs each of the seven 400/7; they keep 300 in all, too little for B; the three
    # pay 100 each for D. B first becomes affordable at 7·(b - 400/7) ≥ 400, b ≥ 114 2/7, and then
    # {A, B, D} overspends, so Add1 keeps b = 114 (14 steps of 1). The greedy completion has 300
    # left, which B and C (400) do not fit.
    costs, ballots, budget = minority_case()
    result = allocate(costs, ballots, budget, "mes", currency_unit=1)
    assert result.selected == ("A", "D")
    assert result.mes_increments == 14
    assert result.mes_voter_budget == 114
    mes_steps = [s for s in result.trace if s.phase == "mes"]
    assert [(s.project_id, s.price, s.remaining) for s in mes_steps] == [
        ("A", Fraction(400, 7), 600),
        ("D", Fraction(100), 300),
    ]
    assert [(s.project_id, s.decision) for s in result.trace if s.phase == "completion"] == [
        ("B", "skipped"),
        ("C", "skipped"),
    ]
    assert result.remainder == 300


def test_add1_stops_at_pabutools_bound_when_nothing_ever_overspends():
    # everything fits, so the budget keeps rising until budget·(voters+1): budget/unit steps
    result = allocate({"A": 300, "B": 100}, [{"A"}] * 3 + [{"B"}], 400, "mes", currency_unit=1)
    assert set(result.selected) == {"A", "B"}
    assert result.mes_increments == 400
    assert result.mes_voter_budget == 500


def test_equal_shares_with_an_oere_step():
    costs, ballots, budget = minority_case()
    scaled = {pid: cost * 100 for pid, cost in costs.items()}
    result = allocate(scaled, ballots, budget * 100, "mes")  # 1 kr. = 100 øre per step
    assert result.selected == ("A", "D")
    assert result.mes_voter_budget == 11400


def test_equal_shares_zero_cost_and_unsupported_projects_go_to_the_completion():
    result = allocate({"A": 100, "free": 0, "nobody": 50}, [{"A", "free"}, {"A"}], 200, "mes", currency_unit=1)
    assert result.selected == ("A", "free", "nobody")
    assert [s.phase for s in result.trace] == ["mes", "completion", "completion"]


def test_equal_shares_without_ballots_is_the_greedy_completion():
    result = allocate({1: 10, 2: 10}, [], 10, "mes")
    assert result.selected == (1,)
    assert result.mes_voter_budget is None


def mes_data(costs: dict, ballots: list, budget: int, tie_break: str = "id") -> _MesData:
    """The equal-shares engine's data for one election."""
    key = tie_break_key(tie_break, costs)
    return _MesData(_prepare(costs, ballots, budget, key))


def random_instance(rng: random.Random) -> tuple[dict, list[frozenset], int]:
    projects = list(range(rng.randint(1, 7)))
    costs = {p: rng.choice([0, rng.randint(1, 40), 10, 20]) for p in projects}
    ballots = [
        frozenset(p for p in projects if rng.random() < 0.4) for _ in range(rng.randint(0, 12))
    ]
    return costs, ballots, rng.randint(0, 80)


def test_equal_shares_jumps_land_where_one_step_at_a_time_lands():
    rng = random.Random(20240601)
    for _ in range(300):
        costs, ballots, budget = random_instance(rng)
        data = mes_data(costs, ballots, budget)
        if not (data.num_voters and data.projects):
            continue
        unit = rng.choice([1, 3])
        assert data.add1(budget, unit) == data.add1(budget, unit, jump=False)



def test_equal_shares_fast_add1_lands_where_the_exact_ones_land():
    rng = random.Random(20240602)
    for _ in range(300):
        costs, ballots, budget = random_instance(rng)
        data = mes_data(costs, ballots, budget)
        if not (data.num_voters and data.projects):
            continue
        unit = rng.choice([1, 3])
        assert data.add1(budget, unit, fast=True) == data.add1(budget, unit, fast=False)


def larger_instance(rng: random.Random) -> tuple[dict, list[frozenset], int]:
    """Many voters, few ballot kinds and round costs: exact ties in prices and budgets abound."""
    projects = list(range(rng.randint(2, 9)))
    costs = {p: rng.choice([0, 60, 120, 240, 360, 720, rng.randint(1, 900)]) for p in projects}
    kinds = [frozenset(p for p in projects if rng.random() < 0.4) for _ in range(rng.randint(1, 8))]
    ballots = [rng.choice(kinds) for _ in range(rng.randint(1, 120))]
    return costs, ballots, rng.choice([120, 360, 720, rng.randint(1, 2000)])


@pytest.mark.parametrize("numpy", [True, False])
def test_a_run_resumed_from_an_earlier_runs_state_is_the_fresh_run(numpy, monkeypatch):
    import deltager.allocation.equal_shares as allocation

    if not numpy:
        monkeypatch.setattr(allocation, "_np", None)
    rng = random.Random(20240608)
    resumed = 0
    for _ in range(300):
        costs, ballots, budget = rng.choice([random_instance, larger_instance])(rng)
        data = mes_data(costs, ballots, budget, rng.choice(["id", "cost"]))
        if not (data.num_voters and data.projects):
            continue
        b0 = Fraction(budget, data.num_voters) + rng.randint(0, 20)
        states: list = []
        data.run(b0, None, states)
        for b in (b0, b0 + Fraction(1, 3), b0 + 1, b0 + rng.randint(2, 40)):
            for state in states:
                if not state.holds_at(b):
                    continue
                resumed += 1
                funded, prices, slack = data.run(b, state)
                fresh_funded, fresh_prices, _ = data.run(b)
                assert (funded, prices) == (fresh_funded, fresh_prices)
                # what the resumed run proves holds: the outcome just inside its slack is the same
                if slack is not None:
                    assert data.run(b + slack * Fraction(999, 1000))[0] == funded
    assert resumed > 1000


@pytest.mark.parametrize("tie_break", ["id", "cost"])
def test_fast_equal_shares_run_is_the_exact_run(tie_break):
    rng = random.Random(20240603)
    for _ in range(300):
        costs, ballots, budget = rng.choice([random_instance, larger_instance])(rng)
        data = mes_data(costs, ballots, budget, tie_break)
        if not (data.num_voters and data.projects):
            continue
        for b in (Fraction(budget, data.num_voters), Fraction(budget, data.num_voters) + rng.randint(1, 30),
                  Fraction(rng.randint(1, 3000), rng.randint(1, 7))):
            funded, prices, _ = data.run(b)
            assert data.run_fast(b) == (funded, [value for value, _ in prices])
        unit = rng.choice([1, 3, 7])
        assert data.add1(budget, unit, fast=True) == data.add1(budget, unit, jump=False, fast=False)


def test_fast_equal_shares_sums_long_vectors_without_blas_alike(monkeypatch):
    import deltager.allocation.equal_shares_fast as allocation

    monkeypatch.setattr(allocation, "_BLAS_ONE_THREAD", 0)  # every sum as a long vector's
    rng = random.Random(20240607)
    for _ in range(100):
        costs, ballots, budget = larger_instance(rng)
        data = mes_data(costs, ballots, budget)
        if data.num_voters and data.projects:
            assert data.add1(budget, 1, fast=True) == data.add1(budget, 1, fast=False)


@pytest.mark.parametrize("tie_break", ["id", "cost"])
def test_an_interval_run_holds_for_every_budget_in_its_range(tie_break):
    rng = random.Random(20240605)
    proven = 0
    for _ in range(300):
        costs, ballots, budget = rng.choice([random_instance, larger_instance])(rng)
        data = mes_data(costs, ballots, budget, tie_break)
        if not (data.num_voters and data.projects):
            continue
        low = Fraction(budget, data.num_voters) + rng.randint(0, 30)
        width = rng.choice([0, 1, 2, Fraction(1, 3), rng.randint(3, 40)])
        funded = data.run_interval(low, low + width)
        if funded is not None:
            proven += 1
            for k in range(7):
                assert data.run(low + width * Fraction(k, 6))[0] == funded
    assert proven > 200


@pytest.mark.parametrize("passes", [0, 1, 10])
def test_float_price_is_the_exact_price_up_to_rounding(monkeypatch, passes):
    import numpy as np

    import deltager.allocation.equal_shares_fast as allocation

    monkeypatch.setattr(allocation, "_NEWTON_PASSES", passes)  # 0: the sort fallback only
    rng = random.Random(20240606)
    for _ in range(300):
        budgets = [Fraction(rng.randint(0, 5000), rng.choice([1, 3, 7])) for _ in range(rng.randint(1, 30))]
        counts = [rng.randint(1, 5) for _ in budgets]
        money = sum(n * x for n, x in zip(counts, budgets))
        cost = rng.randint(1, math.floor(money)) if money >= 1 else 1
        x = np.array([float(v) for v in budgets])
        price = allocation._float_price(x, np.array(counts, dtype=np.float64), sum(counts), cost)
        if money < cost or price is None:  # the float sums may fall short of an exact fit
            assert money <= cost and price is None
            continue
        exact = _MesData._price(cost, dict(enumerate(counts)), budgets, [0] * len(budgets))[0]
        assert abs(price - float(exact)) <= 1e-9 * cost


def test_equal_shares_without_numpy_gives_the_same(monkeypatch):
    import deltager.allocation.equal_shares as allocation

    rng = random.Random(20240604)
    cases = [larger_instance(rng) for _ in range(60)]
    expected = [allocate(c, b, budget, "mes", currency_unit=1) for c, b, budget in cases]
    monkeypatch.setattr(allocation, "_np", None)
    assert [allocate(c, b, budget, "mes", currency_unit=1) for c, b, budget in cases] == expected
    with pytest.raises(RuntimeError):
        mes_data(*cases[0]).add1(cases[0][2], 1, fast=True)

# ------------------------------------------------------------------ result, trace, text


def test_results_are_immutable_and_deterministic():
    costs, ballots, budget = minority_case()
    first = allocate(costs, ballots, budget, "mes", "lottery", 7)
    again = allocate(costs, list(reversed(ballots)), budget, "mes", "lottery", 7)
    assert first == again
    with pytest.raises(AttributeError):
        first.selected = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        first.granted["A"] = 1  # type: ignore[index]


@pytest.mark.parametrize("rule", ["greedy", "mes"])
def test_the_trace_tells_the_selection_step_by_step(rule):
    # The trace is built on request from the selection; on many random votes it must tell the
    # walk exactly: every project once, funded steps = the selection in order, each "skipped"
    # project really did not fit, and the money left adds up to the remainder.
    rng = random.Random(4_2026)
    for _ in range(300):
        projects = range(1, rng.randint(2, 9))
        costs = {p: 100 * rng.choice([0, 5, 10, 10, 15, 20, rng.randint(1, 40)]) for p in projects}
        ballots = [{p for p in projects if rng.random() < 0.4} for _ in range(rng.randint(0, 12))]
        budget = 100 * rng.randint(0, 60)
        result = allocate(costs, ballots, budget, rule, currency_unit=100)
        trace = result.trace
        assert [s.number for s in trace] == list(range(1, len(trace) + 1))
        assert sorted(s.project_id for s in trace) == sorted(costs)
        assert tuple(s.project_id for s in trace if s.decision == "funded") == result.selected
        left = budget
        for step in trace:
            assert step.votes == result.votes[step.project_id] and step.cost == costs[step.project_id]
            if step.decision == "funded":
                left -= step.cost
            else:
                assert step.phase != "mes" and step.cost > left
            assert step.remaining == left
        assert left == result.remainder
        walked = [s.project_id for s in trace if s.phase != "mes"]
        assert walked == [p for p in result.order if p in walked]
        phases = [s.phase for s in trace]
        if rule == "greedy":
            assert set(phases) <= {"greedy"}
        else:
            assert phases == sorted(phases, key=["mes", "completion"].index)


def test_compare_rules_gives_each_rule():
    costs, ballots, budget = minority_case()
    both = compare_rules(costs, ballots, budget, currency_unit=1)
    assert {rule: r.selected for rule, r in both.items()} == {"greedy": ("A", "B"), "mes": ("A", "D")}
    assert all(isinstance(r, AllocationResult) for r in both.values())


def protocol_case() -> AllocationResult:
    kr = 100
    costs = {1: 25_000 * kr, 2: 15_000 * kr, 3: 18_500 * kr, 4: 50_000 * kr, 5: 1 * kr}
    ballots = ballots_from_votes({1: 80, 2: 70, 3: 61, 4: 50, 5: 1})
    return allocate(costs, ballots, 100_000 * kr)


def test_danish_protocol_lines():
    names = {1: "Lektiecafé", 2: "Bænke", 3: "Skraldecaféen", 4: "Skatepark"}
    lines = format_trace_da(protocol_case(), names)
    assert lines == [
        "Flest stemmer først: projekterne tages i rækkefølge efter stemmetal, og hvert projekt får hele sit "
        "beløb, hvis der er nok tilbage i puljen.",
        "1. Lektiecafé (80 stemmer, 25.000 kr.): bevilget, for der var 100.000 kr. tilbage i puljen, da det var "
        "projektets tur. Derefter 75.000 kr. tilbage i puljen.",
        "2. Bænke (70 stemmer, 15.000 kr.): bevilget, for der var 75.000 kr. tilbage i puljen, da det var "
        "projektets tur. Derefter 60.000 kr. tilbage i puljen.",
        "3. Skraldecaféen (61 stemmer, 18.500 kr.): bevilget, for der var 60.000 kr. tilbage i puljen, da det "
        "var projektets tur. Derefter 41.500 kr. tilbage i puljen.",
        "4. Skatepark (50 stemmer, 50.000 kr.): ikke bevilget, for da det var projektets tur, var der kun "
        "41.500 kr. tilbage i puljen.",
        "5. 5 (1 stemme, 1 kr.): bevilget, for der var 41.500 kr. tilbage i puljen, da det var projektets tur. "
        "Derefter 41.499 kr. tilbage i puljen.",
        "Ikke fordelt: 41.499 kr.",
    ]


def test_english_protocol_lines():
    lines = format_trace(protocol_case(), {3: "Skraldecaféen"}, lang="en")
    assert lines[0].startswith("Most votes first: ")
    assert lines[3] == ("3. Skraldecaféen (61 votes, 18.500 kr.): funded, as 60.000 kr. was left in the pot "
                        "when its turn came. Then 41.500 kr. left in the pot.")
    assert lines[4] == "4. 4 (50 votes, 50.000 kr.): not funded, as only 41.500 kr. was left in the pot when its turn came."
    assert lines[5].startswith("5. 5 (1 vote, ")


def test_equal_shares_protocol_shows_both_phases():
    costs, ballots, budget = minority_case()
    result = allocate(costs, ballots, budget, "mes", currency_unit=1)
    lines = format_trace(result, money=lambda amount: f"{amount} €", lang="da", ballots=ballots, currency_unit=1)
    assert lines == [
        "Lige andele: puljen på 1000 € delt ligeligt mellem 10 vælgere giver 100 € til hver. For at kunne bruge "
        "mere af puljen blev hver vælgers andel hævet fra 100 € til 114 €. Hver vælger betaler kun for "
        "projekter, vedkommende har stemt på, og et projekt bevilges, når dets vælgere kan betale det sammen.",
        # 400/7 = 57 1/7 each, rounded up
        "1. A (7 stemmer, 400 €): bevilget – dets 7 vælgere betalte ca. 58 € hver. Derefter 600 € tilbage i puljen.",
        "2. D (3 stemmer, 300 €): bevilget – dets 3 vælgere betalte 100 € hver. Derefter 300 € tilbage i puljen.",
        "Derefter fordeles resten af puljen efter stemmetal: hvert projekt får hele sit beløb, hvis der er nok tilbage.",
        # the seven kept 7 · 114 − 400 = 398 in all, too little for B or C (400)
        "3. B (7 stemmer, 400 €): ikke bevilget – dets 7 vælgere havde kun 398 € tilbage tilsammen, og bagefter "
        "var der kun 300 € tilbage i puljen.",
        "4. C (7 stemmer, 400 €): ikke bevilget – dets 7 vælgere havde kun 398 € tilbage tilsammen, og bagefter "
        "var der kun 300 € tilbage i puljen.",
        "Ikke fordelt: 300 €",
    ]
    english = format_trace(result, money=str, lang="en", ballots=ballots, currency_unit=1)
    assert english[0].startswith("Equal shares: the pot of 1000 split evenly between 10 voters gives 100 each. "
                                 "To spend more of the pot, each voter's share was raised from 100 to 114.")
    assert english[3] == "Then the rest of the pot goes by votes: each project gets its whole amount if enough is left."


def hall_case() -> tuple[dict, list[frozenset], AllocationResult]:
    """A hall of ten voters and 50.000 kr. (hand-checked): at a share of 6.085 kr. the seven who
    like the skatepark pay 30.000/7 each; Fodbold's five then keep 5 · (6.085 − 30.000/7) =
    8.996,43 kr., just short of its 9.000 kr., while Bænke's five can pay 1.600 each and Have's
    three 7.000/3. One krone more and Fodbold is affordable too, and the four overspend."""
    kr = 100
    costs = {1: 30_000 * kr, 2: 9_000 * kr, 3: 8_000 * kr, 4: 7_000 * kr}
    ballots = [frozenset({1, 2})] * 5 + [frozenset({1, 3})] * 2 + [frozenset({3, 4})] * 3
    return costs, ballots, allocate(costs, ballots, 50_000 * kr, "mes")


HALL_NAMES = {1: "Skatepark", 2: "Fodbold", 3: "Bænke", 4: "Have"}


def test_equal_shares_explained_to_a_hall_in_danish():
    _, ballots, result = hall_case()
    assert result.selected == (1, 3, 4) and result.mes_voter_budget == 608_500
    assert format_trace(result, HALL_NAMES, lang="da", ballots=ballots) == [
        "Lige andele: puljen på 50.000 kr. delt ligeligt mellem 10 vælgere giver 5.000 kr. til hver. For at kunne "
        "bruge mere af puljen blev hver vælgers andel hævet fra 5.000 kr. til 6.085 kr. Hver vælger betaler "
        "kun for projekter, vedkommende har stemt på, og et projekt bevilges, når dets vælgere kan betale det sammen.",
        "1. Skatepark (7 stemmer, 30.000 kr.): bevilget – dets 7 vælgere betalte ca. 4.286 kr. hver. "
        "Derefter 20.000 kr. tilbage i puljen.",
        "2. Bænke (5 stemmer, 8.000 kr.): bevilget – dets 5 vælgere betalte 1.600 kr. hver. "
        "Derefter 12.000 kr. tilbage i puljen.",
        "3. Have (3 stemmer, 7.000 kr.): bevilget – dets 3 vælgere betalte ca. 2.334 kr. hver. "
        "Derefter 5.000 kr. tilbage i puljen.",
        "Derefter fordeles resten af puljen efter stemmetal: hvert projekt får hele sit beløb, hvis der er nok tilbage.",
        "4. Fodbold (5 stemmer, 9.000 kr.): ikke bevilget – dets 5 vælgere havde kun 8.996 kr. tilbage "
        "tilsammen, og bagefter var der kun 5.000 kr. tilbage i puljen.",
        "Ikke fordelt: 5.000 kr.",
    ]


def test_equal_shares_explained_to_a_hall_in_english():
    _, ballots, result = hall_case()
    lines = format_trace(result, HALL_NAMES, lang="en", ballots=ballots)
    assert lines[0] == (
        "Equal shares: the pot of 50.000 kr. split evenly between 10 voters gives 5.000 kr. each. To spend more "
        "of the pot, each voter's share was raised from 5.000 kr. to 6.085 kr. Each voter pays only for projects "
        "they voted for, and a project is funded when its voters can pay for it together."
    )
    assert lines[2] == "2. Bænke (5 votes, 8.000 kr.): funded – its 5 voters paid 1.600 kr. each. Then 12.000 kr. left in the pot."
    assert lines[5] == ("4. Fodbold (5 votes, 9.000 kr.): not funded – its 5 voters had only 8.996 kr. left "
                        "together, and after that only 5.000 kr. was left in the pot.")
    assert not any("kr.." in line for line in lines)


def test_each_project_has_one_sentence_on_why():
    """The reasons stand beside the projects in the result: a 5-vote project unfunded, a 3-vote one funded."""
    _, ballots, result = hall_case()
    assert explain(result, HALL_NAMES, ballots=ballots).reasons == {
        1: "Bevilget – dets 7 vælgere betalte ca. 4.286 kr. hver.",
        3: "Bevilget – dets 5 vælgere betalte 1.600 kr. hver.",
        4: "Bevilget – dets 3 vælgere betalte ca. 2.334 kr. hver.",
        2: "Ikke bevilget – dets 5 vælgere havde kun 8.996 kr. tilbage tilsammen, og bagefter var der kun "
           "5.000 kr. tilbage i puljen.",
    }
    english = explain(result, HALL_NAMES, lang="en", ballots=ballots).reasons
    assert english[3] == "Funded – its 5 voters paid 1.600 kr. each."
    assert english[2] == ("Not funded – its 5 voters had only 8.996 kr. left together, and after that only "
                          "5.000 kr. was left in the pot.")
    greedy = explain(protocol_case(), lang="da").reasons
    assert greedy[4] == "Ikke bevilget, for da det var projektets tur, var der kun 41.500 kr. tilbage i puljen."
    assert greedy[5] == "Bevilget, for der var 41.500 kr. tilbage i puljen, da det var projektets tur."


def test_equal_shares_says_when_a_supporter_paid_the_last_of_a_share():
    # Shares of 34: A's two pay 20 each; C's voter {A, C} has 14 left and pays it all, {B, C}
    # pays 16; B's two have 34 + 18 = 52 for its 70. At 35, B is affordable and all overspend.
    costs = {"A": 40, "B": 70, "C": 30}
    ballots = [frozenset("A"), frozenset("B"), frozenset("AC"), frozenset("BC")]
    result = allocate(costs, ballots, 100, "mes", currency_unit=1)
    da = format_trace(result, money=lambda amount: f"{amount} €", ballots=ballots, currency_unit=1)
    assert da[2] == ("2. C (2 stemmer, 30 €): bevilget – dets 2 vælgere betalte højst 16 € hver; 1 af dem betalte "
                     "det sidste af sin andel. Derefter 30 € tilbage i puljen.")
    assert da[4].startswith("3. B (2 stemmer, 70 €): ikke bevilget – dets 2 vælgere havde kun 52 € tilbage tilsammen")
    en = format_trace(result, money=lambda amount: f"{amount} €", lang="en", ballots=ballots, currency_unit=1)
    assert en[2] == ("2. C (2 votes, 30 €): funded – its 2 voters paid at most 16 € each; 1 of them paid the last "
                     "of their share. Then 30 € left in the pot.")


def test_equal_shares_protocol_needs_the_ballots():
    costs, ballots, budget = minority_case()
    with pytest.raises(TypeError):
        format_trace(allocate(costs, ballots, budget, "mes", currency_unit=1))


# ------------------------------------------------------------------ inputs hash


def test_inputs_hash_ignores_ballot_order_and_sees_everything_else():
    costs = {1: 100, 2: 200}
    ballots = [{1, 2}, {2}, set()]
    reference = inputs_hash(costs, ballots, 300, "greedy", "id")
    assert reference == inputs_hash(dict(reversed(costs.items())), [{2}, set(), {2, 1}], 300, "greedy", "id")
    # a fixed value: the stored hashes of frozen allocations must stay comparable
    assert reference == "ffd720e2ecd377115fff2c62fd87ec65a582f4909d700a2077dcb20753698b64"
    changed = [
        inputs_hash(costs, ballots, 301, "greedy", "id"),
        inputs_hash(costs, ballots, 300, "mes", "id"),
        inputs_hash(costs, ballots, 300, "greedy", "cost"),
        inputs_hash(costs, ballots, 300, "greedy", "lottery", seed=1),
        inputs_hash(costs, ballots[:2], 300, "greedy", "id"),
        inputs_hash({1: 100, 2: 201}, ballots, 300, "greedy", "id"),
        inputs_hash({"1": 100, 2: 200}, [{"1", 2}, {2}, set()], 300, "greedy", "id"),
    ]
    assert len(set(changed) | {reference}) == len(changed) + 1


@pytest.mark.parametrize("fast", [False, True])
def test_equal_shares_stops_at_its_deadline_and_greedy_needs_none(fast, monkeypatch):
    from deltager import allocation
    from deltager.allocation import equal_shares

    costs, ballots, budget = minority_case()
    if fast:  # the float path, as on large elections
        monkeypatch.setattr(equal_shares, "_FAST_FROM", 0)
    past = time.monotonic() - 1
    with pytest.raises(allocation.OutOfTime):
        allocate(costs, ballots, budget, "mes", currency_unit=1, deadline=past)
    with pytest.raises(allocation.OutOfTime):
        compare_rules(costs, ballots, budget, currency_unit=1, deadline=past)
    assert allocate(costs, ballots, budget, "greedy", deadline=past).selected == ("A", "B")
    in_time = allocate(costs, ballots, budget, "mes", currency_unit=1, deadline=time.monotonic() + 60)
    assert in_time == allocate(costs, ballots, budget, "mes", currency_unit=1)
