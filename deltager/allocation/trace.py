"""The protocol in words, Danish and English: the rule, one line per project on why it was or
was not funded, and what was not allocated (:func:`explain`, :func:`format_trace`).

The protocol explains the result to a hall, in the order the projects came up (as
equalshares.net's explainer does). Equal Shares needs the ballots for that: who paid what, and
what each project's voters had left, come from replaying the kept outcome's payments (no new
decisions).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from fractions import Fraction
from typing import Any, NamedTuple

from deltager.allocation.types import ORE_PER_KRONE, AllocationResult, Phase, ProjectId
from deltager.money import format_ore, tidy_periods

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

