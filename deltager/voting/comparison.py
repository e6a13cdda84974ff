"""What each allocation rule would give, on an uploaded Pabulib file or on a closed meeting's ballots.

The staff's comparison page (``voting.compare``) validates its form and calls :func:`compare`;
this module reads the file and computes. It never writes, so the page holds no write lock while
Equal Shares works (its view is ``reads_first``). The rules themselves are in
``deltager/allocation/`` (see its README for why a large file may run out of time).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from deltager import allocation as alloc
from deltager import pabulib
from deltager.errors import N_, ValidationFailed
from deltager.voting import services

#: Equal Shares on an uploaded .pb file runs inside the request: the largest Pabulib elections take
#: 9–38 s on this project's machine (by the day), around gunicorn's 30 s timeout. Past this limit
#: the comparison shows greedy alone and says why.
COMPARE_SECONDS = 10


@dataclass(frozen=True)
class Comparison:
    """Each rule's result, the projects' names, the amounts' unit (100: øre), and whether Equal
    Shares ran out of time (then greedy stands alone)."""

    results: dict[str, alloc.AllocationResult]
    names: dict[Any, str]
    unit: int = 100
    out_of_time: bool = False


def compare(session: Session, upload: bytes | None, meeting_id: int | None, tie_break: str) -> Comparison:
    """Compare the rules on ``upload`` (a .pb file's bytes) if given, else on a closed meeting's ballots."""
    if upload:
        return compare_file(upload, tie_break)
    if meeting_id is not None:
        return compare_meeting(session, meeting_id)
    raise ValidationFailed(N_("Upload a .pb file or choose a closed voting meeting."))


def compare_file(data: bytes, tie_break: str) -> Comparison:
    """Both rules on an uploaded election; ValidationFailed if it is not a Pabulib file with approval votes."""
    try:
        election = pabulib.loads(data.decode("utf-8-sig"))
        inputs = pabulib.allocation_inputs(election)
        results, out_of_time = compare_in_time(inputs, tie_break)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationFailed(N_("The file could not be read as a Pabulib .pb file with approval votes.")) from error
    names = {p.project_id: p.name or p.project_id for p in election.projects}
    return Comparison(results, names, inputs.currency_unit, out_of_time)


def compare_in_time(inputs: Any, tie_break: str) -> tuple[dict[str, alloc.AllocationResult], bool]:
    """Both rules, or greedy alone (and True) when Equal Shares does not finish in COMPARE_SECONDS."""
    args = (inputs.costs, inputs.ballots, inputs.budget, tie_break)
    try:
        return dict(alloc.compare_rules(*args, currency_unit=inputs.currency_unit,
                                        deadline=time.monotonic() + COMPARE_SECONDS)), False
    except alloc.OutOfTime:
        return dict(alloc.compare_rules(*args, rules=("greedy",), currency_unit=inputs.currency_unit)), True


def compare_meeting(session: Session, meeting_id: int) -> Comparison:
    """Both rules on a closed meeting's ballots, with the projects' titles (NotAllowed before it closes)."""
    results = services.compare_for_meeting(session, meeting_id)
    round_id = services.get_vote_meeting(session, meeting_id).round_id
    return Comparison(results, {p.id: p.title for p in services.ballot_projects(session, round_id)})
