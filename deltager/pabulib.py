"""Read and write Pabulib ``.pb`` files (https://pabulib.org), and allocate them.

A ``.pb`` file has three sections, ``META``, ``PROJECTS`` and ``VOTES``, each a line with the
section name, a header line and ``;``-separated CSV rows. Every section is read with the
:mod:`csv` module (quoted fields, ``""`` escapes, CRLF), and every value is stripped.

Numbers (costs, the budget, points) are kept as :class:`~decimal.Decimal` exactly as written;
:func:`allocation_inputs` turns money into integers of the smallest unit the file uses
(``222176.85`` → ``22217685`` with 100 units per currency unit), so allocation stays exact.

Vote types: ``approval`` and ``choose-1`` are approval ballots. A ``cumulative`` vote is read with
its points, and *allocated as approval of every project it lists* (whatever the points, also 0),
which is what pabutools' ``Cost_Sat`` sees in it. Other vote types are read but not allocated.

Pure: no database, no Flask.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from os import PathLike
from pathlib import Path

from deltager.allocation import (
    AllocationResult,
    ProjectId,
    Rule,
    TieBreak,
    allocate,
)

SECTIONS = ("meta", "projects", "votes")
APPROVAL_LIKE = ("approval", "choose-1", "cumulative")
#: Bounds on a file's money: at most this many decimals, and amounts below 10**MAX_DIGITS of the
#: smallest unit. Real budgets are far inside them; a 400-digit budget overflowed the page's
#: arithmetic (a 500), and a cost with 400 decimals would scale every amount by 10**400.
MAX_DECIMALS, MAX_DIGITS = 6, 18


class PbFormatError(ValueError):
    """The text is not a valid .pb file; the message says where."""


@dataclass(frozen=True, slots=True)
class PbProject:
    """A row of PROJECTS: id, cost and name, plus every other column by header name."""

    project_id: str
    cost: Decimal
    name: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PbVote:
    """A row of VOTES: voter id, the listed project ids, points (cumulative/scoring), other columns."""

    voter_id: str
    vote: tuple[str, ...]
    points: tuple[Decimal, ...] | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PbElection:
    """A whole .pb file. Column tuples keep the header order so a written file matches the read one."""

    meta: dict[str, str]
    projects: tuple[PbProject, ...]
    votes: tuple[PbVote, ...]
    project_columns: tuple[str, ...] = ("project_id", "cost", "name")
    vote_columns: tuple[str, ...] = ("voter_id", "vote")

    @property
    def vote_type(self) -> str:
        """META ``vote_type`` (``approval`` when missing)."""
        return self.meta.get("vote_type", "approval")

    @property
    def budget(self) -> Decimal:
        """META ``budget`` as an exact decimal."""
        return _decimal(self.meta.get("budget", ""), "META budget")


@dataclass(frozen=True, slots=True)
class PbAllocationInputs:
    """Exact integer inputs for :mod:`deltager.allocation`: money in the file's smallest unit."""

    costs: dict[str, int]
    ballots: list[frozenset[str]]
    budget: int
    currency_unit: int  # smallest units per currency unit, the MES Add1 step per voter


# --------------------------------------------------------------------------- reading


def _decimal(text: str, where: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", "."))  # a few files write decimal commas
    except InvalidOperation:
        raise PbFormatError(f"{where}: {text!r} is not a number") from None
    if not value.is_finite():
        raise PbFormatError(f"{where}: {text!r} is not a number")
    return value


def _split_ids(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def loads(text: str) -> PbElection:
    """Parse the text of a .pb file."""
    text = text.removeprefix("\ufeff")
    # newline="" lets csv see CRLF and quoted line breaks itself
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", skipinitialspace=True)
    sections: dict[str, tuple[list[str], list[dict[str, str]]]] = {}
    current: list[dict[str, str]] | None = None
    header: list[str] = []
    for row in reader:
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if len(cells) == 1 and cells[0].lower() in SECTIONS:
            name = cells[0].lower()
            if name in sections:
                raise PbFormatError(f"line {reader.line_num}: section {cells[0]} appears twice")
            header = [cell.strip() for cell in next(reader, [])]
            current = []
            sections[name] = (header, current)
            continue
        if current is None:
            raise PbFormatError(f"line {reader.line_num}: data before the META section")
        if len(cells) > len(header):
            raise PbFormatError(f"line {reader.line_num}: {len(cells)} fields, header has {len(header)}")
        current.append(dict(zip(header, cells + [""] * (len(header) - len(cells)))))
    for name in SECTIONS:
        if name not in sections:
            raise PbFormatError(f"section {name.upper()} is missing")

    meta_header, meta_rows = sections["meta"]
    meta = {row[meta_header[0]]: row[meta_header[1]] for row in meta_rows}
    project_columns, project_rows = sections["projects"]
    vote_columns, vote_rows = sections["votes"]
    for needed, columns in (("project_id", project_columns), ("cost", project_columns),
                            ("voter_id", vote_columns), ("vote", vote_columns)):
        if needed not in columns:
            raise PbFormatError(f"column {needed} is missing")

    projects = tuple(
        PbProject(
            project_id=row["project_id"],
            cost=_decimal(row["cost"], f"cost of project {row['project_id']}"),
            name=row.get("name", ""),
            extra={k: v for k, v in row.items() if k not in ("project_id", "cost", "name")},
        )
        for row in project_rows
    )
    known = {p.project_id for p in projects}
    if len(known) != len(projects):
        raise PbFormatError("project ids are not unique")
    votes = tuple(_vote(row, known) for row in vote_rows)
    for key, count in (("num_projects", len(projects)), ("num_votes", len(votes))):
        if key in meta and meta[key] != str(count):
            raise PbFormatError(f"META {key} is {meta[key]}, the file has {count}")
    return PbElection(meta, projects, votes, tuple(project_columns), tuple(vote_columns))


def _vote(row: dict[str, str], known: set[str]) -> PbVote:
    voter = row["voter_id"]
    ids = _split_ids(row["vote"])
    unknown = [pid for pid in ids if pid not in known]
    if unknown:
        raise PbFormatError(f"voter {voter} votes for unknown project {unknown[0]}")
    points = None
    if row.get("points"):
        points = tuple(_decimal(p, f"points of voter {voter}") for p in row["points"].split(","))
        if len(points) != len(ids):
            raise PbFormatError(f"voter {voter}: {len(ids)} projects but {len(points)} points")
    extra = {k: v for k, v in row.items() if k not in ("voter_id", "vote", "points")}
    return PbVote(voter, ids, points, extra)


def load(path: str | PathLike[str]) -> PbElection:
    """Read a .pb file (UTF-8, with or without a byte-order mark)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return loads(handle.read())


# --------------------------------------------------------------------------- writing


def _number(value: Decimal) -> str:
    return format(value, "f")  # never exponent notation, trailing zeros kept as read


def dumps(election: PbElection) -> str:
    """The .pb text of ``election``; :func:`loads` reads it back equal."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(["META"])
    writer.writerow(["key", "value"])
    writer.writerows(election.meta.items())
    writer.writerow(["PROJECTS"])
    writer.writerow(election.project_columns)
    for project in election.projects:
        fixed = {"project_id": project.project_id, "cost": _number(project.cost), "name": project.name}
        writer.writerow([fixed[c] if c in fixed else project.extra.get(c, "") for c in election.project_columns])
    writer.writerow(["VOTES"])
    writer.writerow(election.vote_columns)
    for vote in election.votes:
        fixed = {
            "voter_id": vote.voter_id,
            "vote": ",".join(vote.vote),
            "points": ",".join(map(_number, vote.points)) if vote.points is not None else "",
        }
        writer.writerow([fixed[c] if c in fixed else vote.extra.get(c, "") for c in election.vote_columns])
    return out.getvalue()


def dump(election: PbElection, path: str | PathLike[str]) -> None:
    """Write ``election`` to ``path`` as UTF-8."""
    Path(path).write_text(dumps(election), encoding="utf-8")


def _money_text(amount: int, minor_per_unit: int) -> str:
    units, rest = divmod(amount, minor_per_unit)
    digits = len(str(minor_per_unit)) - 1
    return str(units) if rest == 0 else f"{units}.{rest:0{digits}d}"


def export_approval(
    *,
    projects: Iterable[tuple[ProjectId, int, str]],
    ballots: Iterable[Collection[ProjectId]],
    budget: int,
    description: str,
    instance: str,
    date_begin: str,
    date_end: str,
    unit: str,
    country: str = "Denmark",
    currency: str = "DKK",
    language: str = "da",
    rule: str = "greedy",
    selected: Collection[ProjectId] | None = None,
    extra_meta: Mapping[str, str] | None = None,
    minor_per_unit: int = 100,
) -> str:
    """A .pb file of an approval vote from plain values: (id, cost, name) triples and ballots.

    Money is given in øre (``minor_per_unit`` per currency unit) and written in kroner. No
    personal data: voters are numbered 1, 2, 3, … in the order given. ``selected`` adds the
    ``selected`` column (1/0).
    """
    rows = [(str(pid), cost, name.strip()) for pid, cost, name in projects]
    ballot_rows = [sorted(map(str, ballot)) for ballot in ballots]
    tally: dict[str, int] = {pid: 0 for pid, _, _ in rows}
    for ballot in ballot_rows:
        for pid in ballot:
            tally[pid] += 1
    chosen = None if selected is None else {str(pid) for pid in selected}
    meta = {
        "description": description,
        "country": country,
        "unit": unit,
        "instance": instance,
        "num_projects": str(len(rows)),
        "num_votes": str(len(ballot_rows)),
        "budget": _money_text(budget, minor_per_unit),
        "vote_type": "approval",
        "rule": rule,
        "date_begin": date_begin,
        "date_end": date_end,
        "currency": currency,
        "language": language,
        **(extra_meta or {}),
    }
    columns = ("project_id", "cost", "name", "votes") + (("selected",) if chosen is not None else ())
    election = PbElection(
        meta=meta,
        projects=tuple(
            PbProject(
                pid,
                Decimal(_money_text(cost, minor_per_unit)),
                name,
                {"votes": str(tally[pid])} | ({"selected": str(int(pid in chosen))} if chosen is not None else {}),
            )
            for pid, cost, name in rows
        ),
        votes=tuple(PbVote(str(i), tuple(b)) for i, b in enumerate(ballot_rows, start=1)),
        project_columns=columns,
        vote_columns=("voter_id", "vote"),
    )
    return dumps(election)


# --------------------------------------------------------------------------- allocating


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def allocation_inputs(election: PbElection) -> PbAllocationInputs:
    """Costs, budget and approval ballots as exact integers of the file's smallest money unit."""
    if election.vote_type not in APPROVAL_LIKE:
        raise ValueError(f"cannot allocate {election.vote_type} votes; only {', '.join(APPROVAL_LIKE)}")
    budget = election.budget
    digits = max([_decimals(budget)] + [_decimals(p.cost) for p in election.projects])
    if digits > MAX_DECIMALS:
        raise ValueError(f"amounts may have at most {MAX_DECIMALS} decimals")
    scale = 10**digits
    if any(abs(amount) * scale >= 10**MAX_DIGITS for amount in [budget, *(p.cost for p in election.projects)]):
        raise ValueError(f"amounts must be below 10**{MAX_DIGITS} of the smallest unit")
    costs = {p.project_id: int(p.cost * scale) for p in election.projects}
    if any(c < 0 for c in costs.values()) or budget < 0:
        raise ValueError("costs and budget must not be negative")
    ballots = [frozenset(v.vote) for v in election.votes]
    return PbAllocationInputs(costs, ballots, int(budget * scale), scale)


def allocate_election(
    election: PbElection, rule: Rule, tie_break: TieBreak = "id", seed: int | str | None = None
) -> AllocationResult:
    """Allocate a parsed election; ``tie_break="id"`` is pabutools' default (ids as strings)."""
    inputs = allocation_inputs(election)
    return allocate(
        inputs.costs, inputs.ballots, inputs.budget, rule, tie_break, seed,
        currency_unit=inputs.currency_unit,
    )


def allocate_file(path: str | PathLike[str], rule: Rule) -> list[str]:
    """The project ids ``rule`` selects for a .pb file, in selection order (for the CLI)."""
    return [str(pid) for pid in allocate_election(load(path), rule).selected]
