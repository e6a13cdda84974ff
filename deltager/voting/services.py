"""The rules of the voting meeting: preparing the ballot, cards, casting, closing and allocating.

Casting a ballot is the hot path (hundreds of phones at once): one short write transaction that
reads the card with its meeting's settings, checks the choices, moves the card issued → used with
a conditional UPDATE (the rowcount says who won a race), inserts the ballot (``card_id`` UNIQUE)
and its choices. Nothing in it names a person, an address or a device, and it writes no audit
event: a ballot must not be linkable to a time and a person.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.orm import Session, joinedload

from deltager import allocation as alloc
from deltager import ratelimit
from deltager.applications import services as applications
from deltager.applications.models import Application
from deltager.audit.services import Actor, record
from deltager.db import begin_write
from deltager.errors import N_, NotAllowed, NotFound, Throttled, ValidationFailed
from deltager.meetings.models import Meeting, MeetingKind
from deltager.meetings.services import MeetingInput
from deltager.rounds.models import Round, RoundStatus
from deltager.rounds.services import get_round
from deltager.voting import queries, secrecy
from deltager.voting.models import (
    Allocation,
    AllocationLine,
    AllocationRule,
    Ballot,
    BallotCard,
    BallotChannel,
    BallotChoice,
    CardStatus,
    TieBreak,
    VoteSettings,
    VoteState,
)

#: 18 random bytes: 144 bits, 24 URL-safe characters (no padding).
CODE_BYTES = 18
MAX_CARDS_PER_BATCH = 5000
MAX_CHOICES = 50
CARD_CODE_SCOPE = queries.CARD_CODE_SCOPE  # the rate limit on invalid card codes (deltager.ratelimit)

T = TypeVar("T")


class CardUsed(NotAllowed):
    """The card has already been used to vote."""


class CardVoided(NotAllowed):
    """The card was cancelled by staff (reported lost)."""


class VoteNotOpen(NotAllowed):
    """The vote of the card's meeting is not open."""


class VoteNotOpenYet(VoteNotOpen):
    """The vote of the card's meeting is still being prepared: it will open (the page waits for it)."""


def _core(session: Session) -> Connection:
    """The session's connection, for the phone's hot path: its statements are Core statements,
    and running them on the connection skips the ORM's work per statement (its execution context,
    and its bulk-insert path for the choices): about a fifth of a vote's CPU. Same transaction;
    pending ORM changes are flushed first, as ``Session.execute`` would."""
    session.flush()
    return session.connection()


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class BallotProject:
    """A project as it stands on the ballot."""

    id: int
    title: str
    summary: str
    cost_ore: int
    stand_number: int | None
    has_photo: bool


def get_vote_meeting(session: Session, meeting_id: int) -> Meeting:
    """A voting meeting by id, or NotFound (other kinds of meetings are not voting meetings)."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.kind is not MeetingKind.VOTE:
        raise NotFound(N_("The voting meeting does not exist."))
    return meeting


def list_vote_meetings(session: Session, *, state: VoteState | None = None) -> list[tuple[Meeting, VoteState]]:
    """Every voting meeting (or those in ``state``) with the state of its vote, newest first; one query."""
    vote_state = func.coalesce(VoteSettings.state, VoteState.PREPARING)
    query = (
        select(Meeting, vote_state)
        .outerjoin(VoteSettings, VoteSettings.meeting_id == Meeting.id)
        .options(joinedload(Meeting.round))
        .where(Meeting.kind == MeetingKind.VOTE)
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    )
    if state is not None:
        query = query.where(vote_state == state)
    return [(meeting, VoteState(value)) for meeting, value in session.execute(query)]


def get_settings(session: Session, meeting_id: int) -> VoteSettings:
    """The ballot settings of a voting meeting; defaults (not saved) if none were set yet."""
    get_vote_meeting(session, meeting_id)
    settings = session.get(VoteSettings, meeting_id)
    if settings is None:
        settings = VoteSettings(
            meeting_id=meeting_id, min_choices=3, max_choices=5, rule=AllocationRule.GREEDY,
            tie_break=TieBreak.COST, state=VoteState.PREPARING, cards_issued=0,
        )
    return settings


def lock_settings(session: Session, meeting_id: int) -> VoteSettings:
    """The settings row, locked (PostgreSQL), created with defaults if missing."""
    get_vote_meeting(session, meeting_id)
    settings = session.scalar(
        select(VoteSettings).where(VoteSettings.meeting_id == meeting_id).with_for_update()
    )
    if settings is None:
        settings = get_settings(session, meeting_id)
        session.add(settings)
        session.flush()
    return settings


def ballot_projects(session: Session, round_id: int) -> list[BallotProject]:
    """The round's projects on the ballot, by stand number then id (one query, no photo bytes)."""
    rows = _core(session).execute(queries.BALLOT_PROJECTS, {"round_id": round_id}).all()
    return [BallotProject(r[0], r[1], r[2], r[3], r[4], r[5] is not None) for r in rows]


def order_for_card(projects: Sequence[BallotProject], card_key: str) -> list[BallotProject]:
    """The ballot's order for one card: random-looking, the same every time that card looks."""
    return sorted(
        projects, key=lambda p: hashlib.sha256(f"{card_key}:{p.id}".encode()).digest()
    )


# --------------------------------------------------------------------------- preparing


@dataclass(frozen=True)
class SettingsInput:
    """What the caseworker sets before the vote."""

    min_choices: int
    max_choices: int
    rule: AllocationRule
    tie_break: TieBreak


def update_settings(session: Session, actor: Actor, meeting_id: int, data: SettingsInput) -> VoteSettings:
    """Set the ballot rules; only before the vote opens."""
    settings = lock_settings(session, meeting_id)
    if settings.state is not VoteState.PREPARING:
        raise NotAllowed(N_("The ballot rules cannot change once the vote has opened."))
    if data.min_choices < 1:
        raise ValidationFailed(N_("Each ballot must have at least 1 project."), field="min_choices")
    if data.max_choices < data.min_choices:
        raise ValidationFailed(
            N_("The largest number of projects cannot be smaller than the smallest."), field="max_choices"
        )
    if data.max_choices > MAX_CHOICES:
        raise ValidationFailed(N_("At most %(max)d projects per ballot.", max=MAX_CHOICES), field="max_choices")
    refuse_rules_beyond_ballot(len(ballot_projects(session, settings.meeting.round_id)),
                               data.min_choices, data.max_choices)
    before = settings.audit_snapshot()
    settings.min_choices, settings.max_choices = data.min_choices, data.max_choices
    settings.rule, settings.tie_break = data.rule, data.tie_break
    record(session, actor, "voting.settings", "meeting", meeting_id, before=before, after=settings.audit_snapshot())
    return settings


def refuse_rules_beyond_ballot(projects: int, min_choices: int, max_choices: int) -> None:
    """Refuse a fewest or most number of choices above the projects on the ballot: a voter told to
    choose "between 2 and 6" from 4 projects could never choose 6 (when saved and when the vote opens)."""
    if min_choices > projects:
        raise ValidationFailed(
            N_("There are %(count)d projects on the ballot, so the fewest a voter must choose cannot be "
               "more than %(count)d."), field="min_choices", count=projects,
        )
    if max_choices > projects:
        raise ValidationFailed(
            N_("There are %(count)d projects on the ballot, so the most a voter may choose cannot be "
               "more than %(count)d."), field="max_choices", count=projects,
        )


def _require_preparing(session: Session, meeting_id: int) -> tuple[Meeting, VoteSettings]:
    settings = lock_settings(session, meeting_id)
    if settings.state is not VoteState.PREPARING:
        raise NotAllowed(N_("Stand numbers cannot change once the vote has opened."))
    return settings.meeting, settings


def next_stand_number(session: Session, round_id: int) -> int:
    """The stand a project newly put on the ballot gets: the one after the round's highest."""
    return max((p.stand_number or 0 for p in ballot_projects(session, round_id)), default=0) + 1


def assign_stand_numbers(session: Session, actor: Actor, meeting_id: int) -> list[BallotProject]:
    """Give the projects on the ballot stands 1..n in application-number order."""
    meeting, _ = _require_preparing(session, meeting_id)
    ids = sorted(p.id for p in ballot_projects(session, meeting.round_id))
    return _set_stands(session, actor, meeting, {app_id: n for n, app_id in enumerate(ids, start=1)})


def set_stand_numbers(
    session: Session, actor: Actor, meeting_id: int, numbers: dict[int, int | None]
) -> list[BallotProject]:
    """Set stand numbers by hand (application id → number); numbers must be unique and positive."""
    meeting, _ = _require_preparing(session, meeting_id)
    given = [n for n in numbers.values() if n is not None]
    if any(n < 1 or n > 9999 for n in given):
        raise ValidationFailed(N_("A stand number must be a whole number from 1 to 9999."))
    duplicates = sorted(n for n, c in Counter(given).items() if c > 1)
    if duplicates:
        raise ValidationFailed(
            N_("Stand number %(number)d is used twice. Each stand needs its own number."), number=duplicates[0]
        )
    valid = {p.id for p in ballot_projects(session, meeting.round_id)}
    if set(numbers) - valid:
        raise ValidationFailed(N_("Only projects on the ballot get a stand number."))
    return _set_stands(session, actor, meeting, numbers)


def _set_stands(session: Session, actor: Actor, meeting: Meeting, numbers: dict[int, int | None]) -> list[BallotProject]:
    before = {p.id: p.stand_number for p in ballot_projects(session, meeting.round_id)}
    applications.write_stand_numbers(session, meeting.round_id, numbers)
    record(session, actor, "voting.stands", "meeting", meeting.id,
           before={str(k): v for k, v in before.items()},
           after={str(k): numbers.get(k, before.get(k)) for k in before})
    return ballot_projects(session, meeting.round_id)


# --------------------------------------------------------------------------- cards


def hash_code(code: str) -> str:
    """The SHA-256 (hex) of a card code: all the database keeps of it."""
    return hashlib.sha256(code.encode()).hexdigest()


def card_url(base_url: str, code: str) -> str:
    """The URL a card's QR code opens."""
    return f"{base_url.rstrip('/')}/v/{code}"


def normalise_serial(text: str) -> str:
    """What staff type ("42", " 0042 ", "e7") as the printed serial ("0042", "E0007")."""
    cleaned = text.strip().lstrip("#").strip()
    if cleaned[:1].isalpha() and cleaned[1:].isdigit():
        return cleaned[0].upper() + cleaned[1:].zfill(4)
    return cleaned.zfill(4) if cleaned.isdigit() else cleaned.upper()


@dataclass(frozen=True)
class IssuedCard:
    """A newly issued card: the code exists only here, to be printed."""

    number: int
    code: str
    prefix: str = ""  # REPLACEMENT_PREFIX for a replacement card

    @property
    def serial(self) -> str:
        """The printed serial: "0042" (a replacement card: "E0042")."""
        return f"{self.prefix}{self.number:04d}"


class SerialsTaken(Exception):
    """Another batch took the planned serials first (see :func:`plan_cards`); plan again."""


def _refuse_cards_after_closing(settings: VoteSettings) -> None:
    if settings.state is VoteState.CLOSED:
        raise NotAllowed(N_("The vote is closed; no more cards can be issued."))


def plan_cards(session: Session, meeting_id: int, count: int) -> list[IssuedCard]:
    """The next ``count`` cards of the meeting: serials and fresh codes, nothing stored yet.

    For the cards page, which makes a PDF of thousands of cards (seconds of work): it plans,
    ends its transaction, makes the file, and only then stores the batch with
    :func:`store_cards` in a short write transaction. So no write lock is held while the file
    is made (voting goes on), and cards are never stored without the file that carries their
    codes. Reads only.
    """
    if not 1 <= count <= MAX_CARDS_PER_BATCH:
        raise ValidationFailed(
            N_("Issue between 1 and %(max)d cards at a time."), field="count", max=MAX_CARDS_PER_BATCH
        )
    settings = get_settings(session, meeting_id)  # (NotFound for a meeting that is not a vote)
    _refuse_cards_after_closing(settings)
    first = settings.cards_issued + 1
    return [IssuedCard(n, secrets.token_urlsafe(CODE_BYTES)) for n in range(first, first + count)]


def store_cards(session: Session, actor: Actor, meeting_id: int, cards: Sequence[IssuedCard], now: dt.datetime) -> None:
    """Store planned cards as issued (in a write transaction); SerialsTaken if their serials are gone."""
    settings = lock_settings(session, meeting_id)
    _refuse_cards_after_closing(settings)  # again: the vote may have closed since the plan
    if not cards or cards[0].number != settings.cards_issued + 1:
        raise SerialsTaken
    batch = 1 + (session.scalar(select(func.max(BallotCard.batch)).where(BallotCard.meeting_id == meeting_id)) or 0)
    session.execute(
        insert(BallotCard),
        [
            {"meeting_id": meeting_id, "code_hash": hash_code(c.code), "serial": c.serial, "batch": batch,
             "status": CardStatus.ISSUED, "issued_at": now}
            for c in cards
        ],
    )
    settings.cards_issued += len(cards)
    record(session, actor, "voting.cards_issue", "meeting", meeting_id,
           after={"batch": batch, "count": len(cards), "serials": f"{cards[0].serial}–{cards[-1].serial}"}, at=now)


def issue_cards_with_file(
    session: Session, actor: Actor, meeting_id: int, count: int, make_file: Callable[[list[IssuedCard]], T],
    clock: Callable[[], dt.datetime], *, attempts: int = 3,
) -> tuple[list[IssuedCard], T]:
    """Issue a batch whose file (PDF, CSV) takes long to make; commits. Returns the cards and the file.

    Plans the batch, ends the session's transaction, calls ``make_file(cards)`` with no lock
    held (a PDF of 5,000 cards takes seconds, and a write transaction held that long would stop
    every ballot of an open vote), then stores the batch in a short write transaction. If another
    batch took the planned serials meanwhile, it plans again (nothing was stored); after
    ``attempts`` tries it gives up with NotAllowed. Any error leaves nothing stored.
    """
    for _attempt in range(attempts):
        planned = plan_cards(session, meeting_id, count)
        session.rollback()
        made = make_file(planned)
        begin_write(session)
        try:
            store_cards(session, actor, meeting_id, planned, clock())
        except SerialsTaken:
            session.rollback()
            continue
        session.commit()
        return planned, made
    raise NotAllowed(N_("Other cards were issued at the same time. Try again."))


def issue_cards(session: Session, actor: Actor, meeting_id: int, count: int, now: dt.datetime) -> list[IssuedCard]:
    """Issue ``count`` new cards in the current write transaction; their codes are returned once
    and never stored."""
    lock_settings(session, meeting_id)  # lock first: the plan then cannot go stale
    cards = plan_cards(session, meeting_id, count)
    store_cards(session, actor, meeting_id, cards, now)
    return cards


#: Replacement cards are "E" and four random digits, beside the printed batches' "0001", "0002" …
REPLACEMENT_PREFIX = "E"
REPLACEMENT_BATCH = 0  # every replacement card of a meeting, never a printed batch
#: Their ids are drawn from the negative half of an INTEGER: printed batches count up from 1, so
#: neither PostgreSQL's sequence nor SQLite's next rowid ever meets them, nor moves because of them.
REPLACEMENT_IDS = (-2_147_483_648, -1)


def issue_replacement_card(session: Session, actor: Actor, meeting_id: int, now: dt.datetime) -> IssuedCard:
    """Issue one card to replace a voided one (the caller voids it first, see :func:`void_card`).

    Nothing ties the new card to the one it replaces, nor so to the person who asked: a ballot
    is keyed by its card, and staff may remember who lost card 0013 at 19:02. So the card's id
    and serial are drawn at random instead of following the last card's (their order would
    follow the order of the voids), every replacement card of the meeting shares one batch, its
    issue time is only the day, and the audit event says that a replacement card was issued,
    not which.
    """
    settings = lock_settings(session, meeting_id)
    _refuse_cards_after_closing(settings)
    rng = secrets.SystemRandom()
    taken = set(session.scalars(select(BallotCard.serial).where(BallotCard.meeting_id == meeting_id)))
    card = IssuedCard(rng.randrange(10_000), secrets.token_urlsafe(CODE_BYTES), REPLACEMENT_PREFIX)
    while card.serial in taken:
        card = IssuedCard(rng.randrange(10_000), card.code, REPLACEMENT_PREFIX)
    card_id = rng.randint(*REPLACEMENT_IDS)
    while session.get(BallotCard, card_id) is not None:
        card_id = rng.randint(*REPLACEMENT_IDS)
    session.execute(insert(BallotCard).values(
        id=card_id, meeting_id=meeting_id, code_hash=hash_code(card.code), serial=card.serial,
        batch=REPLACEMENT_BATCH, status=CardStatus.ISSUED,
        issued_at=dt.datetime.combine(now.astimezone(dt.UTC).date(), dt.time(), dt.UTC),
    ))
    record(session, actor, "voting.card_replacement", "meeting", meeting_id, after={"count": 1}, at=now)
    return card


def _code_hash(code: str) -> str | None:
    """The hash a card with this code is stored under; None for what cannot be a code at all."""
    return hash_code(code) if code and len(code) <= 100 else None


def find_card(session: Session, code: str) -> BallotCard | None:
    """The card with this code, if any (looked up by the code's hash)."""
    code_hash = _code_hash(code)
    return None if code_hash is None else session.scalar(select(BallotCard).where(BallotCard.code_hash == code_hash))


def scan_card(session: Session, code: str, ip: str, now: dt.datetime, *, limit: int, window_seconds: int) -> int | None:
    """The id of the card with this code; None if there is none and the client may still try.

    A valid card is never refused: a hall is one NAT address, and one person sending wrong codes
    must not stop everyone else from voting. Only an unknown code counts against the client: one
    that sent ``limit`` invalid codes in this and the last window is refused (Throttled). Codes
    carry 128 random bits, so the throttle only slows a guesser who could never succeed anyway,
    and keeps wrong codes from flooding the database with counts.
    """
    failures, card_id = _core(session).execute(queries.SCAN, {
        "key": ratelimit.clip_key(ip), "since_bucket": ratelimit.since_bucket(now, window_seconds),
        "code_hash": _code_hash(code) or "",  # no stored hash is empty: the card part finds nothing
    }).one()
    if card_id is None and (failures or 0) >= limit:
        raise Throttled(N_("Too many invalid card codes from your network. Wait a few minutes and scan your card again."))
    return card_id


def register_card_failure(session: Session, ip: str, now: dt.datetime, *, window_seconds: int) -> None:
    """Count one invalid code for this client (see deltager.ratelimit)."""
    ratelimit.hit(session, CARD_CODE_SCOPE, ip, now, window_seconds=window_seconds)


def _card_by_serial(session: Session, meeting_id: int, serial: str) -> BallotCard:
    card = session.scalar(
        select(BallotCard).where(BallotCard.meeting_id == meeting_id, BallotCard.serial == normalise_serial(serial))
    )
    if card is None:
        raise ValidationFailed(N_("There is no card with number %(serial)s at this meeting."), field="serial",
                               serial=serial.strip()[:20])
    return card


def check_paper_ballot(session: Session, meeting_id: int, serial: str, choices: Sequence[int]) -> str:
    """Check a paper ballot before it counts (reads only): the card may vote now and the choices keep
    the rules. Returns the card's serial as printed; raises what entering it would raise."""
    card = _card_by_serial(session, meeting_id, serial)
    settings = get_settings(session, meeting_id)
    refuse_card(card.status, settings.state)
    valid = {p.id for p in ballot_projects(session, get_vote_meeting(session, meeting_id).round_id)}
    check_choices(choices, valid, settings.min_choices, settings.max_choices)
    return card.serial


def void_card(session: Session, actor: Actor, meeting_id: int, serial: str, now: dt.datetime) -> BallotCard:
    """Cancel a lost card so it can never vote (only an unused card can be voided)."""
    settings = lock_settings(session, meeting_id)
    if settings.state is VoteState.CLOSED:
        raise NotAllowed(N_("The vote is closed."))
    card = _card_by_serial(session, meeting_id, serial)
    done = session.execute(
        update(BallotCard).where(BallotCard.id == card.id, BallotCard.status == CardStatus.ISSUED)
        .values(status=CardStatus.VOIDED, voided_at=now).execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(card)
        if card.status is CardStatus.USED:
            raise CardUsed(N_("Card %(serial)s has already been used to vote, so it cannot be cancelled."),
                           serial=card.serial)
        raise CardVoided(N_("Card %(serial)s is already cancelled."), serial=card.serial)
    session.refresh(card)
    record(session, actor, "voting.card_void", "meeting", meeting_id, after={"serial": card.serial}, at=now)
    return card


# --------------------------------------------------------------------------- opening and casting


@dataclass(frozen=True)
class CardBatch:
    """One batch of cards as issued: its number, serials and what became of its cards."""

    batch: int
    issued_at: dt.datetime
    first_serial: str
    last_serial: str
    count: int
    unused: int  # issued and neither used nor cancelled: the cards a new file would carry

    @property
    def single(self) -> bool:
        """A batch of one card (a replacement handed out on screen)."""
        return self.count == 1


def card_batches(session: Session, meeting_id: int) -> list[CardBatch]:
    """The meeting's printed batches of cards, oldest first (one query over the cards' rows).

    Replacement cards (batch 0, serials E####) are no printed batch: each was shown on screen once,
    and listing them with their times would tie them to the voters who asked (see
    ``replacement_cards``)."""
    rows = session.execute(
        select(BallotCard.batch, BallotCard.serial, BallotCard.status, BallotCard.issued_at)
        .where(BallotCard.meeting_id == meeting_id, BallotCard.batch != REPLACEMENT_BATCH)
    ).all()
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.batch, []).append(row)
    batches = []
    for batch, cards in sorted(grouped.items()):
        numbers = sorted(int(c.serial) for c in cards)  # serials are numbers: "10000" follows "9999"
        batches.append(CardBatch(
            batch=batch, issued_at=min(c.issued_at for c in cards), first_serial=f"{numbers[0]:04d}",
            last_serial=f"{numbers[-1]:04d}", count=len(cards),
            unused=sum(1 for c in cards if c.status is CardStatus.ISSUED),
        ))
    return batches


def replacement_cards(session: Session, meeting_id: int) -> int:
    """How many replacement cards the meeting's staff have handed out (a count, nothing more)."""
    return session.scalar(select(func.count()).select_from(BallotCard).where(
        BallotCard.meeting_id == meeting_id, BallotCard.batch == REPLACEMENT_BATCH)) or 0


def renew_batch_codes(session: Session, actor: Actor, meeting_id: int, batch: int, now: dt.datetime) -> list[IssuedCard]:
    """New codes for a batch's unused cards, keeping their serials (the file of a batch cannot be
    made again: Deltager keeps only a fingerprint of each code). The cards printed from the earlier
    file stop working; used and cancelled cards are left as they are. In the current write transaction."""
    settings = lock_settings(session, meeting_id)
    _refuse_cards_after_closing(settings)
    cards = list(session.scalars(
        select(BallotCard).where(BallotCard.meeting_id == meeting_id, BallotCard.batch == batch,
                                 BallotCard.status == CardStatus.ISSUED).order_by(BallotCard.id)
    ))
    if not cards:
        raise NotAllowed(N_("Every card of this batch has been used or cancelled: there is nothing to print again."))
    renewed = [IssuedCard(int(card.serial), secrets.token_urlsafe(CODE_BYTES)) for card in cards]
    for card, new in zip(cards, renewed):
        card.code_hash = hash_code(new.code)
    record(session, actor, "voting.cards_renew", "meeting", meeting_id,
           after={"batch": batch, "count": len(renewed)}, at=now)
    return renewed


def refuse_opening(session: Session, settings: VoteSettings) -> None:
    """Raise the DomainError that refuses opening this vote now by the vote's own rules, if any
    (reads only). Opening from screening also moves the round on: ``deltager.road.refuse_opening``
    asks the round's road too."""
    if settings.state is not VoteState.PREPARING:
        raise NotAllowed(N_("The vote has already been opened."))
    round_ = get_vote_meeting(session, settings.meeting_id).round  # (unsaved default settings have no .meeting)
    if round_.status not in (RoundStatus.SCREENING, RoundStatus.VOTING):
        raise NotAllowed(N_("The vote can only open while the round is in screening or voting."))
    projects = ballot_projects(session, round_.id)
    try:
        refuse_rules_beyond_ballot(len(projects), settings.min_choices, settings.max_choices)
    except ValidationFailed as error:  # not the form's fault here: the vote cannot open so
        raise NotAllowed(error.message, **error.params) from None
    if any(p.stand_number is None for p in projects):
        raise NotAllowed(N_("Give every project on the ballot a stand number before the vote opens."))


def open_vote(session: Session, actor: Actor, meeting_id: int, now: dt.datetime) -> VoteSettings:
    """Open the vote: the round must be in screening or voting, and every project on the ballot
    needs a stand. A round still in screening is moved on first by ``deltager.road.open_vote``."""
    settings = lock_settings(session, meeting_id)
    refuse_opening(session, settings)
    before = settings.audit_snapshot()
    settings.state, settings.opened_at = VoteState.OPEN, now
    record(session, actor, "voting.open", "meeting", meeting_id, before=before, after=settings.audit_snapshot(), at=now)
    return settings


@dataclass(frozen=True)
class CardView:
    """What the ballot page needs to know about the card in the visitor's cookie."""

    card_id: int
    code_hash: str
    status: CardStatus
    meeting_id: int
    round_id: int
    meeting_title: str
    state: VoteState
    min_choices: int
    max_choices: int


@dataclass(frozen=True)
class CardBallot:
    """The card in the visitor's cookie and the ballot's projects, in stand order."""

    view: CardView
    projects: list[BallotProject]


def card_ballot(session: Session, card_id: int) -> CardBallot | None:
    """The card with its meeting's settings and the ballot's projects (by stand number), in one
    query; None if the card is unknown or its meeting not set up for a vote."""
    rows = _core(session).execute(queries.CARD_BALLOT, {"card_id": card_id}).all()
    if not rows:
        return None
    projects = [BallotProject(*r[queries.CARD_COLUMNS:queries.CARD_COLUMNS + 5], r[queries.CARD_COLUMNS + 5] is not None)
                for r in rows if r[queries.CARD_COLUMNS] is not None]
    return CardBallot(CardView(*rows[0][:queries.CARD_COLUMNS]), projects)


def check_choices(choices: Sequence[int], valid: Collection[int], min_choices: int, max_choices: int) -> None:
    """Refuse a ballot that breaks a rule: duplicates, unknown projects, too few or too many."""
    if len(set(choices)) != len(choices):
        raise ValidationFailed(N_("A project can only be chosen once."), field="choice")
    if any(c not in valid for c in choices):
        raise ValidationFailed(N_("One of the chosen projects is not on the ballot."), field="choice")
    if len(choices) < min_choices:
        raise ValidationFailed(
            N_("Choose at least %(min)d projects. You chose %(count)d."), field="choice",
            min=min_choices, count=len(choices),
        )
    if len(choices) > max_choices:
        raise ValidationFailed(
            N_("Choose at most %(max)d projects. You chose %(count)d."), field="choice",
            max=max_choices, count=len(choices),
        )


def refuse_card(status: CardStatus, state: VoteState) -> None:
    """Raise why a card in this status cannot vote in a vote in this state (nothing if it can)."""
    if status is CardStatus.USED:
        raise CardUsed(N_("This card has already been used to vote. Each card can vote once."))
    if status is CardStatus.VOIDED:
        raise CardVoided(N_("This card has been cancelled. Ask the staff for a new card."))
    if state is VoteState.PREPARING:
        raise VoteNotOpenYet(N_("The vote has not opened yet. Wait until the staff open it."))
    if state is VoteState.CLOSED:
        raise VoteNotOpen(N_("The vote is closed. Thank you for coming."))


def cast_ballot(
    session: Session, card_id: int, choices: Sequence[int], channel: BallotChannel,
    *, meeting_id: int | None = None,
) -> None:
    """Cast one ballot with ``card_id``. One short write transaction.

    The vote settings row is share-locked (PostgreSQL) so that closing the vote waits for ballots
    being cast; the card's UPDATE … WHERE status = 'issued' decides a race between two requests.
    Nothing records when: see deltager.voting.models on ballot secrecy.
    """
    db = _core(session)
    rows = db.execute(queries.CAST_CARD, {"card_id": card_id}).all()
    row = rows[0] if rows else None
    if row is None or (meeting_id is not None and row.meeting_id != meeting_id):
        raise NotFound(N_("The card does not belong to this meeting."))
    refuse_card(row.status, row.state)
    check_choices(choices, {r[-1] for r in rows if r[-1] is not None}, row.min_choices, row.max_choices)
    won = db.execute(queries.MARK_CARD_USED, {"card_id": card_id})
    if won.rowcount != 1:  # type: ignore[attr-defined]
        raise CardUsed(N_("This card has already been used to vote. Each card can vote once."))
    db.execute(queries.INSERT_BALLOT, {"card_id": card_id, "channel": channel})
    db.execute(queries.INSERT_CHOICE, [{"card_id": card_id, "application_id": c} for c in choices])


def enter_paper_ballot(
    session: Session, actor: Actor, meeting_id: int, serial: str, choices: Sequence[int], now: dt.datetime
) -> BallotCard:
    """Staff enter a paper ballot by the card's serial: the same rules, and one vote per card."""
    card = _card_by_serial(session, meeting_id, serial)
    cast_ballot(session, card.id, choices, BallotChannel.PAPER, meeting_id=meeting_id)
    # The event says that a paper ballot was entered, by whom and when, never which card: a
    # ballot is keyed by its card, and who handed in the paper at 19:05 may be remembered.
    record(session, actor, "voting.paper_ballot", "meeting", meeting_id, after={"count": 1}, at=now)
    return card


def set_door_count(session: Session, actor: Actor, meeting_id: int, count: int) -> VoteSettings:
    """Record the head count at the door."""
    if not 0 <= count <= 1_000_000:
        raise ValidationFailed(N_("Enter the number of people as a whole number."), field="door_count")
    settings = lock_settings(session, meeting_id)
    before = settings.audit_snapshot()
    settings.door_count = count
    record(session, actor, "voting.door_count", "meeting", meeting_id, before=before, after=settings.audit_snapshot())
    return settings


# --------------------------------------------------------------------------- counting


@dataclass(frozen=True)
class Reconciliation:
    """Cards against ballots against the head count at the door."""

    issued: int
    used_phone: int
    used_paper: int
    voided: int
    unused: int
    door_count: int | None

    @property
    def ballots(self) -> int:
        """Ballots cast, by phone and on paper."""
        return self.used_phone + self.used_paper


def reconciliation(session: Session, meeting_id: int) -> Reconciliation:
    """Count cards by status and ballots by channel (two grouped queries)."""
    by_status = dict(session.execute(
        select(BallotCard.status, func.count()).where(BallotCard.meeting_id == meeting_id).group_by(BallotCard.status)
    ).all())
    by_channel = dict(session.execute(
        select(Ballot.channel, func.count()).join(BallotCard, BallotCard.id == Ballot.card_id)
        .where(BallotCard.meeting_id == meeting_id).group_by(Ballot.channel)
    ).all())
    settings = session.get(VoteSettings, meeting_id)
    return Reconciliation(
        issued=sum(by_status.values()),
        used_phone=by_channel.get(BallotChannel.PHONE, 0),
        used_paper=by_channel.get(BallotChannel.PAPER, 0),
        voided=by_status.get(CardStatus.VOIDED, 0),
        unused=by_status.get(CardStatus.ISSUED, 0),
        door_count=settings.door_count if settings else None,
    )


class Turnout(NamedTuple):
    """What the big screen shows while the vote runs."""

    state: VoteState
    cards: int  # cards handed out and still valid (issued or used, not voided)
    ballots: int  # ballots cast (cards used)


def turnout(session: Session, meeting_id: int) -> Turnout:
    """The vote's state, the valid cards and the ballots cast (one cheap query, for the big screen)."""

    def cards(*statuses: CardStatus) -> Any:
        return (select(func.count()).select_from(BallotCard)
                .where(BallotCard.meeting_id == meeting_id, BallotCard.status.in_(statuses)).scalar_subquery())

    row = session.execute(
        select(VoteSettings.state, cards(CardStatus.ISSUED, CardStatus.USED), cards(CardStatus.USED))
        .where(VoteSettings.meeting_id == meeting_id)
    ).one_or_none()
    return Turnout(VoteState.PREPARING, 0, 0) if row is None else Turnout(*row)


def ballots_of(session: Session, meeting_id: int) -> list[frozenset[int]]:
    """Every ballot of a meeting as a set of application ids, in a canonical order (never cast order)."""
    choices: dict[int, set[int]] = {}
    rows = session.execute(
        select(Ballot.card_id, BallotChoice.application_id)
        .join(BallotCard, BallotCard.id == Ballot.card_id)
        .outerjoin(BallotChoice, BallotChoice.card_id == Ballot.card_id)
        .where(BallotCard.meeting_id == meeting_id)
    )
    for card_id, app_id in rows:
        entry = choices.setdefault(card_id, set())
        if app_id is not None:
            entry.add(app_id)
    return sorted((frozenset(c) for c in choices.values()), key=sorted)


# --------------------------------------------------------------------------- closing


def _allocate(
    projects: Sequence[BallotProject], ballots: Iterable[frozenset[int]], pot_ore: int,
    rule: AllocationRule, tie_break: TieBreak, seed: str | None,
) -> tuple[alloc.AllocationResult, str]:
    costs = {p.id: p.cost_ore for p in projects}
    on_ballot = set(costs)
    # A project withdrawn during the vote takes no part; its ticks are dropped from the ballots.
    cleaned = [b & on_ballot for b in ballots]
    result = alloc.allocate(costs, cleaned, pot_ore, rule.value, tie_break.value, seed)  # type: ignore[arg-type]
    digest = alloc.inputs_hash(costs, cleaned, pot_ore, rule.value, tie_break.value, seed)  # type: ignore[arg-type]
    return result, digest


def close_vote(
    session: Session, actor: Actor, meeting_id: int, now: dt.datetime, *, seed: str | None = None
) -> Allocation:
    """Close the vote, allocate the pot under the meeting's rule, freeze the result.

    A lottery tie-break draws its seed here (``secrets``) and records it. (A round in the voting
    step then moves on to "allocated": ``deltager.road.close_vote``.) Last, the ballot tables are rewritten in a random order, so that
    their storage no longer keeps the cast order (deltager.voting.secrecy; on SQLite the caller
    runs ``secrecy.compact`` after the commit).
    """
    settings = lock_settings(session, meeting_id)
    if settings.state is not VoteState.OPEN:
        raise NotAllowed(N_("Only an open vote can be closed."))
    meeting = settings.meeting
    round_ = get_round(session, meeting.round_id, for_update=True)
    projects = ballot_projects(session, round_.id)
    if settings.tie_break is TieBreak.LOTTERY:
        seed = seed or secrets.token_hex(8)
    else:
        seed = None
    ballots = ballots_of(session, meeting_id)
    result, digest = _allocate(projects, ballots, round_.pot_ore, settings.rule, settings.tie_break, seed)
    titles = {p.id: p.title for p in projects}
    selected = set(result.selected)
    da = alloc.explain(result, titles, lang="da", ballots=ballots)
    en = alloc.explain(result, titles, lang="en", ballots=ballots)
    allocation = Allocation(
        round_id=round_.id, meeting_id=meeting_id, rule=settings.rule, tie_break=settings.tie_break,
        seed=seed, inputs_hash=digest, pot_ore=round_.pot_ore,
        granted_total_ore=round_.pot_ore - result.remainder, remainder_ore=result.remainder,
        num_ballots=result.num_ballots,
        trace_da=da.lines, trace_en=en.lines,
        computed_at=now, frozen=True,
        lines=[
            AllocationLine(application_id=int(line.project_id), votes=line.votes, rank=line.rank,
                           cost_ore=line.cost, granted_ore=line.granted, selected=line.project_id in selected,
                           reason_da=da.reasons[line.project_id], reason_en=en.reasons[line.project_id])
            for line in result.lines
        ],
    )
    session.add(allocation)
    before = settings.audit_snapshot()
    settings.state, settings.closed_at = VoteState.CLOSED, now
    record(session, actor, "voting.close", "meeting", meeting_id, before=before, after=settings.audit_snapshot(), at=now)
    session.flush()
    record(session, actor, "voting.allocate", "allocation", allocation.id, after={
        "meeting_id": meeting_id, "rule": settings.rule, "tie_break": settings.tie_break, "seed": seed,
        "inputs_hash": digest, "ballots": result.num_ballots,
        "selected": [int(p) for p in result.selected], "remainder_ore": result.remainder,
    }, at=now)
    secrecy.forget_cast_order(session)
    return allocation


def get_allocation(session: Session, meeting_id: int) -> Allocation | None:
    """The frozen allocation of a meeting, if its vote has closed."""
    return session.scalar(select(Allocation).where(Allocation.meeting_id == meeting_id, Allocation.frozen.is_(True)))


@dataclass(frozen=True)
class ResultLine:
    """A line of a published result, with the project's stand and title."""

    rank: int
    application_id: int
    stand_number: int | None
    title: str
    votes: int
    cost_ore: int
    granted_ore: int
    selected: bool
    reason_da: str | None = None  # why it was or was not funded (None in allocations frozen before reasons)
    reason_en: str | None = None


def result_lines(session: Session, allocation: Allocation) -> list[ResultLine]:
    """The allocation's lines in rank order with titles (one query)."""
    rows = session.execute(queries.RESULT_LINES, {"allocation_id": allocation.id}).all()
    return [
        ResultLine(line.rank, line.application_id, stand, title, line.votes, line.cost_ore, line.granted_ore,
                   line.selected, line.reason_da, line.reason_en)
        for line, stand, title in rows
    ]


def tell_results(
    session: Session, allocation: Allocation, tell: Callable[[Application, ResultLine], Any]
) -> int:
    """Each project on the ballot learns its result: ``tell(application, line)`` for an applicant
    with an e-mail address (the view queues the e-mail for after the commit); one without is owed
    it by phone or letter (applications' service writes that). Returns how many are owed."""
    by_phone: dict[int, bool] = {}
    for line in result_lines(session, allocation):
        application = applications.get_application(session, line.application_id)
        if application.applicant.email is None:
            by_phone[application.id] = line.selected
        else:
            tell(application, line)
    if by_phone:
        applications.owe_results_by_phone(session, by_phone)
    return len(by_phone)


@dataclass(frozen=True)
class ClosedVote:
    """Everything the protocol of a closed vote states: the meeting, its round, the cards, the result."""

    meeting: Meeting
    round: Round
    reconciliation: Reconciliation
    allocation: Allocation
    lines: list[ResultLine]


def closed_vote(session: Session, meeting_id: int) -> ClosedVote:
    """A closed vote with its frozen allocation and result lines; NotFound while it is not closed."""
    allocation = get_allocation(session, meeting_id)
    if allocation is None:
        raise NotFound(N_("The result is hidden until the vote is closed."))
    meeting = get_vote_meeting(session, meeting_id)
    return ClosedVote(meeting, get_round(session, meeting.round_id), reconciliation(session, meeting_id),
                      allocation, result_lines(session, allocation))


def round_allocation(session: Session, round_id: int) -> Allocation | None:
    """The frozen allocation published for a round (the latest, if several meetings voted)."""
    return session.scalar(
        select(Allocation).where(Allocation.round_id == round_id, Allocation.frozen.is_(True))
        .order_by(Allocation.computed_at.desc(), Allocation.id.desc()).limit(1)
    )


def published_result(
    session: Session, round_id: int, language: str,
) -> tuple[Allocation, list[ResultLine], list[str]] | None:
    """A round's published result once a vote has closed: the allocation, its lines and its trace
    in ``language`` (the public round page)."""
    allocation = round_allocation(session, round_id)
    if allocation is None:
        return None
    return allocation, result_lines(session, allocation), allocation.trace(language)


def project_result(session: Session, application: Application) -> AllocationLine | None:
    """A project's line in its round's published result (votes, amount granted), once a vote has closed."""
    allocation = round_allocation(session, application.round_id)
    if allocation is None:
        return None
    return session.scalar(select(AllocationLine).where(
        AllocationLine.allocation_id == allocation.id, AllocationLine.application_id == application.id))


def recompute(session: Session, allocation: Allocation) -> str:
    """Recompute a frozen allocation's inputs hash from the stored ballots (an audit check)."""
    meeting = get_vote_meeting(session, allocation.meeting_id)
    projects = ballot_projects(session, meeting.round_id)
    _, digest = _allocate(projects, ballots_of(session, allocation.meeting_id), allocation.pot_ore,
                          allocation.rule, allocation.tie_break, allocation.seed)
    return digest


def compare_for_meeting(session: Session, meeting_id: int) -> dict[str, alloc.AllocationResult]:
    """What each rule would give on a meeting's ballots (only once its vote is closed)."""
    settings = get_settings(session, meeting_id)
    if settings.state is not VoteState.CLOSED:
        raise NotAllowed(N_("Ballots can only be compared after the vote has closed."))
    meeting = get_vote_meeting(session, meeting_id)
    round_ = get_round(session, meeting.round_id)
    projects = ballot_projects(session, round_.id)
    costs = {p.id: p.cost_ore for p in projects}
    ballots = [b & set(costs) for b in ballots_of(session, meeting_id)]
    seed = "compare" if settings.tie_break is TieBreak.LOTTERY else None
    return dict(alloc.compare_rules(costs, ballots, round_.pot_ore, settings.tie_break.value, seed))  # type: ignore[arg-type]


def export_pb(session: Session, meeting_id: int, municipality: str = "Deltager") -> str:
    """The closed vote as a Pabulib .pb file: projects, costs, anonymous numbered ballots."""
    from deltager import pabulib

    allocation = get_allocation(session, meeting_id)
    if allocation is None:
        raise NotAllowed(N_("The ballots can be exported once the vote is closed."))
    meeting = get_vote_meeting(session, meeting_id)
    round_ = get_round(session, meeting.round_id)
    lines = result_lines(session, allocation)
    on_ballot = {line.application_id for line in lines}
    day = meeting.starts_at.date().isoformat()
    return pabulib.export_approval(
        projects=[(line.application_id, line.cost_ore, line.title) for line in sorted(lines, key=lambda x: x.application_id)],
        ballots=[b & on_ballot for b in ballots_of(session, meeting_id)],
        budget=allocation.pot_ore,
        description=f"{round_.title}: {meeting.title}",
        instance=municipality,
        date_begin=day,
        date_end=day,
        unit=round_.theme,
        rule="greedy" if allocation.rule is AllocationRule.GREEDY else "equalshares",
        selected=[line.application_id for line in lines if line.selected],
    )


# --------------------------------------------------------------------------- what the vote refuses elsewhere
# (asked by deltager.road before a round moves on or a voting meeting changes)


def require_frozen_allocation(session: Session, round_: Round) -> None:
    """A round becomes "allocated" only with a frozen allocation."""
    if round_allocation(session, round_.id) is None:
        raise NotAllowed(
            N_("The round cannot be marked as allocated before the vote has closed and its result is frozen.")
        )


def refuse_screening_once_voted(session: Session, round_: Round) -> None:
    """A round cannot go back to screening once one of its votes has opened (the ballot
    people voted on must stay the ballot that is counted)."""
    opened = session.scalar(
        select(VoteSettings.meeting_id).join(Meeting, Meeting.id == VoteSettings.meeting_id)
        .where(Meeting.round_id == round_.id, VoteSettings.state != VoteState.PREPARING).limit(1)
    )
    if opened is not None:
        raise NotAllowed(N_("The vote has opened, so the ballot is fixed: the round cannot go back to screening."))


# A voting meeting is tied down by its vote. Once cards are issued it stays a voting meeting; once
# the vote has opened it cannot be cancelled (close the vote instead); once it has closed nothing
# about it changes, since the protocol states its date and place.


def _vote_of(session: Session, meeting: Meeting) -> VoteSettings | None:
    return session.get(VoteSettings, meeting.id) if meeting.kind is MeetingKind.VOTE else None


def refuse_meeting_edit(session: Session, meeting: Meeting) -> None:
    """A meeting whose vote has closed cannot be edited or cancelled."""
    settings = _vote_of(session, meeting)
    if settings is not None and settings.state is VoteState.CLOSED:
        raise NotAllowed(N_("The vote of this meeting has closed and its protocol names the meeting, so it cannot change."))


def refuse_meeting_change(session: Session, meeting: Meeting, data: MeetingInput) -> None:
    """This edit of a meeting, if its vote forbids it: closed, or no longer a voting meeting once cards are out."""
    refuse_meeting_edit(session, meeting)
    settings = _vote_of(session, meeting)
    if settings is not None and data.kind is not MeetingKind.VOTE and (
            settings.cards_issued or settings.state is VoteState.OPEN):
        raise ValidationFailed(N_("Ballot cards have been issued for this meeting, so it must stay a voting meeting."),
                               field="kind")


def refuse_meeting_cancel(session: Session, meeting: Meeting) -> None:
    """Cancelling a meeting, if its vote forbids it: closed, or open."""
    refuse_meeting_edit(session, meeting)
    settings = _vote_of(session, meeting)
    if settings is not None and settings.state is VoteState.OPEN:
        raise NotAllowed(N_("The vote of this meeting is open, so the meeting cannot be cancelled. Close the vote instead."))
