"""The voting rules: cards, one ballot per card, ballot validation, closing and the frozen result."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from deltager import allocation, pabulib, road
from deltager.applications.models import ApplicationStatus
from deltager.audit.models import AuditEvent
from deltager.citizens import services as citizens
from deltager.errors import NotAllowed, NotFound, Throttled, ValidationFailed
from deltager.road import transition_round
from deltager.rounds.models import RoundStatus
from deltager.voting import services
from deltager.voting.models import (
    Allocation,
    AllocationRule,
    Ballot,
    BallotCard,
    BallotChannel,
    BallotChoice,
    CardStatus,
    TieBreak,
    VoteState,
)
from tests.rounds.factories import make_round
from tests.voting.factories import NOW, TEST_ACTOR, issue, make_vote_meeting


def _card(session: Session, code: str) -> BallotCard:
    card = services.find_card(session, code)
    assert card is not None
    return card


def test_cards_have_long_urlsafe_codes_and_only_their_hash_is_stored(session: Session) -> None:
    setup = make_vote_meeting(session)
    cards = issue(session, setup, 20)
    assert [c.serial for c in cards] == [f"{n:04d}" for n in range(1, 21)]
    for card in cards:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", card.code)
        assert len(card.code) * 6 >= 128  # base64url: 6 bits per character
    assert len({c.code for c in cards}) == 20
    stored = session.scalars(select(BallotCard).where(BallotCard.meeting_id == setup.meeting.id)).all()
    values = {str(getattr(row, col.key)) for row in stored for col in inspect(BallotCard).columns}
    assert not {c.code for c in cards} & values, "a card code is stored in clear"
    assert {row.code_hash for row in stored} == {services.hash_code(c.code) for c in cards}
    more = issue(session, setup, 2)
    assert [c.serial for c in more] == ["0021", "0022"], "serials continue, never repeat"


def test_card_url_and_serial_normalisation() -> None:
    assert services.card_url("https://x.dk/", "abc") == "https://x.dk/v/abc"
    assert services.normalise_serial(" 42 ") == "0042"
    assert services.normalise_serial("#0042") == "0042"
    assert services.normalise_serial(" e42") == services.normalise_serial("E0042") == "E0042"


def test_issue_count_is_bounded(session: Session) -> None:
    setup = make_vote_meeting(session)
    with pytest.raises(ValidationFailed):
        services.issue_cards(session, TEST_ACTOR, setup.meeting.id, 0, NOW)
    with pytest.raises(ValidationFailed):
        services.issue_cards(session, TEST_ACTOR, setup.meeting.id, services.MAX_CARDS_PER_BATCH + 1, NOW)


def test_one_ballot_per_card(session: Session) -> None:
    setup = make_vote_meeting(session, open_vote=True)
    card = _card(session, issue(session, setup, 1)[0].code)
    services.cast_ballot(session, card.id, setup.ids[:2], BallotChannel.PHONE)
    session.commit()
    with pytest.raises(services.CardUsed):
        services.cast_ballot(session, card.id, setup.ids[2:4], BallotChannel.PHONE)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Ballot).where(Ballot.card_id == card.id)) == 1
    session.refresh(card)
    assert card.status is CardStatus.USED


def test_the_database_refuses_a_second_ballot_for_a_card(session: Session) -> None:
    setup = make_vote_meeting(session, open_vote=True)
    card = _card(session, issue(session, setup, 1)[0].code)
    services.cast_ballot(session, card.id, setup.ids[:1], BallotChannel.PHONE)
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(insert(Ballot).values(card_id=card.id, channel=BallotChannel.PAPER))
    session.rollback()


def test_a_race_lost_at_the_conditional_update_is_refused(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python check passed (the card looked unused), but the UPDATE … WHERE status='issued' lost."""
    setup = make_vote_meeting(session, open_vote=True)
    card = _card(session, issue(session, setup, 1)[0].code)
    monkeypatch.setattr(services, "refuse_card", lambda status, state: None)
    services.cast_ballot(session, card.id, setup.ids[:1], BallotChannel.PHONE)
    with pytest.raises(services.CardUsed):
        services.cast_ballot(session, card.id, setup.ids[:1], BallotChannel.PHONE)
    session.rollback()


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        (lambda ids: [], "Choose at least"),
        (lambda ids: ids[:4], "Choose at most"),
        (lambda ids: [ids[0], ids[0]], "only be chosen once"),
        (lambda ids: [ids[0], 999_999], "not on the ballot"),
    ],
)
def test_ballot_choices_are_validated(session: Session, choices, message: str) -> None:
    setup = make_vote_meeting(session, open_vote=True, min_choices=1, max_choices=3)
    card = _card(session, issue(session, setup, 1)[0].code)
    with pytest.raises(ValidationFailed, match=message):
        services.cast_ballot(session, card.id, choices(setup.ids), BallotChannel.PHONE)
    session.rollback()
    assert card.status is CardStatus.ISSUED


def test_projects_not_on_the_ballot_cannot_be_chosen(session: Session) -> None:
    setup = make_vote_meeting(session, open_vote=True)
    setup.projects[0].status = ApplicationStatus.WITHDRAWN
    session.commit()
    card = _card(session, issue(session, setup, 1)[0].code)
    with pytest.raises(ValidationFailed, match="not on the ballot"):
        services.cast_ballot(session, card.id, [setup.ids[0]], BallotChannel.PHONE)


def test_vote_must_be_open_and_card_issued_and_of_the_meeting(session: Session) -> None:
    setup = make_vote_meeting(session)
    other = make_vote_meeting(session, open_vote=True)
    card = _card(session, issue(session, setup, 1)[0].code)
    with pytest.raises(services.VoteNotOpen):
        services.cast_ballot(session, card.id, setup.ids[:1], BallotChannel.PHONE)
    session.rollback()
    with pytest.raises(NotFound):
        services.cast_ballot(session, card.id, setup.ids[:1], BallotChannel.PAPER, meeting_id=other.meeting.id)
    session.rollback()
    road.open_vote(session, TEST_ACTOR, setup.meeting.id, NOW)
    services.void_card(session, TEST_ACTOR, setup.meeting.id, card.serial, NOW)
    session.commit()
    with pytest.raises(services.CardVoided):
        services.cast_ballot(session, card.id, setup.ids[:1], BallotChannel.PHONE)
    session.rollback()
    with pytest.raises(services.CardVoided):
        services.void_card(session, TEST_ACTOR, setup.meeting.id, card.serial, NOW)


def test_opening_needs_a_round_in_screening_or_voting_enough_projects_and_stands(session: Session) -> None:
    too_early = make_vote_meeting(session, round_status=RoundStatus.OPEN)
    with pytest.raises(NotAllowed, match="screening or voting"):
        road.open_vote(session, TEST_ACTOR, too_early.meeting.id, NOW)
    session.rollback()
    no_stands = make_vote_meeting(session, stands=False)
    with pytest.raises(NotAllowed, match="stand number"):
        road.open_vote(session, TEST_ACTOR, no_stands.meeting.id, NOW)
    session.rollback()
    too_few = make_vote_meeting(session, projects=[("Eneste", 1000)], min_choices=2, max_choices=3)
    with pytest.raises(NotAllowed, match="fewest a voter must choose cannot be more than 1"):
        road.open_vote(session, TEST_ACTOR, too_few.meeting.id, NOW)


def test_opening_the_vote_fixes_the_ballot(session: Session) -> None:
    from deltager.applications import services as applications
    from tests.voting.factories import make_applications

    setup = make_vote_meeting(session, round_status=RoundStatus.SCREENING)
    [waiting] = make_applications(session, setup.round, [("Sendt ind, ikke vurderet", 5_000)], stands=False)
    waiting.status = ApplicationStatus.SUBMITTED
    session.commit()
    # Every application needs its answer first: from voting on, none can be given.
    with pytest.raises(NotAllowed, match=r"await a decision \(1\)"):
        road.open_vote(session, TEST_ACTOR, setup.meeting.id, NOW)
    session.rollback()
    assert setup.round.status is RoundStatus.SCREENING
    applications.decide(session, TEST_ACTOR, waiting.id, ApplicationStatus.REJECTED, "Passer ikke til temaet.", NOW)
    road.open_vote(session, TEST_ACTOR, setup.meeting.id, NOW)
    session.commit()
    assert setup.round.status is RoundStatus.VOTING
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "round.status")) is not None
    # No project leaves the ballot while people vote, and the round cannot go back to screening.
    on_ballot = setup.projects[0]
    with pytest.raises(NotAllowed, match="withdrawn"):
        applications.withdraw(session, citizens.applicant_actor(on_ballot.applicant), on_ballot.id, NOW)
    session.rollback()
    with pytest.raises(NotAllowed, match="ballot is fixed"):
        transition_round(session, TEST_ACTOR, setup.round.id, RoundStatus.SCREENING)
    session.rollback()
    road.close_vote(session, TEST_ACTOR, setup.meeting.id, NOW)
    assert setup.round.status is RoundStatus.ALLOCATED


def test_a_round_goes_back_to_screening_while_its_vote_is_unopened(session: Session) -> None:
    setup = make_vote_meeting(session, round_status=RoundStatus.VOTING)
    transition_round(session, TEST_ACTOR, setup.round.id, RoundStatus.SCREENING)
    assert setup.round.status is RoundStatus.SCREENING


def test_a_voting_meeting_is_tied_down_by_its_vote(session: Session) -> None:
    from deltager.meetings import services as meetings
    from deltager.meetings.models import MeetingKind

    setup = make_vote_meeting(session, min_choices=1, max_choices=2)
    meeting = setup.meeting

    def edit(**changes: object) -> None:
        data = meetings.MeetingInput(kind=meeting.kind, title=meeting.title, place=meeting.place, address="",
                                     description="", starts_at=meeting.starts_at, ends_at=meeting.ends_at)
        road.update_meeting(session, TEST_ACTOR, meeting.id, dataclasses.replace(data, **changes))

    edit(kind=MeetingKind.HELP)  # nothing issued yet: still free to change
    edit(kind=MeetingKind.VOTE)
    issue(session, setup, 2)
    with pytest.raises(ValidationFailed, match="stay a voting meeting"):
        edit(kind=MeetingKind.HELP)
    session.rollback()
    road.open_vote(session, TEST_ACTOR, meeting.id, NOW)
    session.commit()
    edit(place="Den store sal")  # an open vote's meeting may still be corrected
    session.commit()
    with pytest.raises(NotAllowed, match="cannot be cancelled"):
        road.cancel_meeting(session, TEST_ACTOR, meeting.id, NOW)
    session.rollback()
    road.close_vote(session, TEST_ACTOR, meeting.id, NOW)
    session.commit()
    with pytest.raises(NotAllowed, match="protocol"):
        edit(place="Et andet sted")
    session.rollback()
    assert session.get(type(meeting), meeting.id).place == "Den store sal"


def test_settings_are_validated_and_frozen_once_open(session: Session) -> None:
    setup = make_vote_meeting(session)
    data = services.SettingsInput(3, 2, AllocationRule.MES, TieBreak.LOTTERY)
    with pytest.raises(ValidationFailed) as error:
        services.update_settings(session, TEST_ACTOR, setup.meeting.id, data)
    assert error.value.field == "max_choices"
    session.rollback()
    settings = services.update_settings(
        session, TEST_ACTOR, setup.meeting.id, services.SettingsInput(2, 4, AllocationRule.MES, TieBreak.LOTTERY)
    )
    assert (settings.min_choices, settings.max_choices, settings.rule) == (2, 4, AllocationRule.MES)
    road.open_vote(session, TEST_ACTOR, setup.meeting.id, NOW)
    with pytest.raises(NotAllowed):
        services.update_settings(session, TEST_ACTOR, setup.meeting.id, services.SettingsInput(1, 2, AllocationRule.GREEDY, TieBreak.ID))


def test_stand_numbers_default_and_by_hand(session: Session) -> None:
    setup = make_vote_meeting(session, stands=False)
    projects = services.assign_stand_numbers(session, TEST_ACTOR, setup.meeting.id)
    assert [(p.id, p.stand_number) for p in projects] == [(i, n) for n, i in enumerate(setup.ids, start=1)]
    swapped = {setup.ids[0]: 2, setup.ids[1]: 1}
    projects = services.set_stand_numbers(session, TEST_ACTOR, setup.meeting.id, swapped)
    assert {p.id: p.stand_number for p in projects}[setup.ids[0]] == 2
    with pytest.raises(ValidationFailed, match="used twice"):
        services.set_stand_numbers(session, TEST_ACTOR, setup.meeting.id, {setup.ids[0]: 5, setup.ids[1]: 5})
    with pytest.raises(ValidationFailed, match="1 to 9999"):
        services.set_stand_numbers(session, TEST_ACTOR, setup.meeting.id, {setup.ids[0]: 0})


def test_paper_ballot_by_serial_and_once_across_channels(session: Session) -> None:
    setup = make_vote_meeting(session, open_vote=True)
    cards = issue(session, setup, 2)
    services.enter_paper_ballot(session, TEST_ACTOR, setup.meeting.id, "1", setup.ids[:2], NOW)
    session.commit()
    with pytest.raises(services.CardUsed):
        services.cast_ballot(session, _card(session, cards[0].code).id, setup.ids[:1], BallotChannel.PHONE)
    session.rollback()
    services.cast_ballot(session, _card(session, cards[1].code).id, setup.ids[:1], BallotChannel.PHONE)
    session.commit()
    with pytest.raises(services.CardUsed):
        services.enter_paper_ballot(session, TEST_ACTOR, setup.meeting.id, "0002", setup.ids[:1], NOW)
    session.rollback()
    with pytest.raises(ValidationFailed, match="no card with number"):
        services.enter_paper_ballot(session, TEST_ACTOR, setup.meeting.id, "77", setup.ids[:1], NOW)
    session.rollback()
    rec = services.reconciliation(session, setup.meeting.id)
    assert (rec.issued, rec.used_phone, rec.used_paper, rec.voided, rec.unused) == (2, 1, 1, 0, 0)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "voting.paper_ballot")).one()
    assert event.after == {"count": 1}, "a paper ballot's event names no card"


def test_reconciliation_and_door_count(session: Session) -> None:
    setup = make_vote_meeting(session, open_vote=True)
    cards = issue(session, setup, 5)
    services.cast_ballot(session, _card(session, cards[0].code).id, setup.ids[:1], BallotChannel.PHONE)
    services.void_card(session, TEST_ACTOR, setup.meeting.id, "0002", NOW)
    services.set_door_count(session, TEST_ACTOR, setup.meeting.id, 4)
    session.commit()
    rec = services.reconciliation(session, setup.meeting.id)
    assert (rec.issued, rec.used_phone, rec.used_paper, rec.voided, rec.unused, rec.door_count) == (5, 1, 0, 1, 3, 4)
    # the big screen: cards handed out and still valid (5 issued − 1 voided) beside ballots cast
    assert services.turnout(session, setup.meeting.id) == (VoteState.OPEN, 4, 1)
    with pytest.raises(ValidationFailed):
        services.set_door_count(session, TEST_ACTOR, setup.meeting.id, -1)


def _vote(session: Session, setup, ballots: list[list[int]]) -> None:
    cards = issue(session, setup, len(ballots))
    for card, choice in zip(cards, ballots):
        services.cast_ballot(session, _card(session, card.code).id, choice, BallotChannel.PHONE)
    session.commit()


def test_closing_allocates_freezes_and_moves_the_round(session: Session) -> None:
    setup = make_vote_meeting(session, open_vote=True, pot_ore=30_000_00, cap_ore=25_000_00)
    a, b, c, d, e, f = setup.ids  # costs 18.500, 12.000, 4.000, 25.000, 22.000, 9.500
    _vote(session, setup, [[a, d], [a, d], [a, b], [d], [c]])
    alloc_row = road.close_vote(session, TEST_ACTOR, setup.meeting.id, NOW)
    session.commit()
    assert alloc_row.frozen and alloc_row.rule is AllocationRule.GREEDY
    # votes: a 3, d 3 (tie: fewest kroner first → a), b 1, c 1 (c cheaper), e 0, f 0
    lines = services.result_lines(session, alloc_row)
    assert [(line.application_id, line.votes) for line in lines][:4] == [(a, 3), (d, 3), (c, 1), (b, 1)]
    granted = {line.application_id: line.granted_ore for line in lines}
    assert granted[a] == 18_500_00 and granted[d] == 0 and granted[c] == 4_000_00
    assert alloc_row.granted_total_ore + alloc_row.remainder_ore == alloc_row.pot_ore
    assert sum(granted.values()) == alloc_row.granted_total_ore
    assert alloc_row.trace_da[0].startswith("Flest stemmer først: ")
    assert alloc_row.trace_da[1] == ("1. Skraldecaféen (3 stemmer, 18.500 kr.): bevilget, for der var 30.000 kr. "
                                     "tilbage i puljen, da det var projektets tur. Derefter 11.500 kr. tilbage i puljen.")
    assert alloc_row.trace_da[2].endswith("(3 stemmer, 25.000 kr.): ikke bevilget, for da det var projektets tur, "
                                          "var der kun 11.500 kr. tilbage i puljen.")
    assert alloc_row.trace_en[2].endswith("not funded, as only 11.500 kr. was left in the pot when its turn came.")
    session.refresh(setup.round)
    assert setup.round.status is RoundStatus.ALLOCATED
    assert services.recompute(session, alloc_row) == alloc_row.inputs_hash
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"voting.open", "voting.close", "voting.allocate", "voting.cards_issue"} <= actions
    assert not any("ballot" in a and a != "voting.paper_ballot" for a in actions)
    with pytest.raises(NotAllowed):
        road.close_vote(session, TEST_ACTOR, setup.meeting.id, NOW)


def test_allocation_matches_the_pure_function(session: Session) -> None:
    setup = make_vote_meeting(session, open_vote=True, rule=AllocationRule.MES, tie_break=TieBreak.ID)
    a, b, c, d, e, f = setup.ids
    ballots = [[a, b], [b, c], [c, d], [e], [e, f], [a, f], [b]]
    _vote(session, setup, ballots)
    alloc_row = road.close_vote(session, TEST_ACTOR, setup.meeting.id, NOW)
    costs = {p.id: p.requested_ore for p in setup.projects}
    expected = allocation.allocate(costs, [set(x) for x in ballots], setup.round.pot_ore, "mes", "id")
    got = {line.application_id: line.granted_ore for line in alloc_row.lines}
    assert got == dict(expected.granted)
    assert alloc_row.remainder_ore == expected.remainder
    # the frozen protocol explains Equal Shares with the ballots it was computed from
    titles = {p.id: p.title for p in setup.projects}
    frozen_ballots = [frozenset(x) for x in ballots]
    assert alloc_row.trace_da == allocation.format_trace(expected, titles, lang="da", ballots=frozen_ballots)
    assert alloc_row.trace_en == allocation.format_trace(expected, titles, lang="en", ballots=frozen_ballots)
    assert alloc_row.trace_da[0].startswith("Lige andele: puljen på ")
    reasons = allocation.explain(expected, titles, lang="en", ballots=frozen_ballots).reasons
    assert {line.application_id: line.reason_en for line in alloc_row.lines} == reasons
    assert all(line.reason_da and line.reason_da.startswith(("Bevilget", "Ikke bevilget")) for line in alloc_row.lines)


def test_lottery_seed_is_drawn_and_recorded_at_close(session: Session) -> None:
    setup = make_vote_meeting(session, open_vote=True, tie_break=TieBreak.LOTTERY)
    _vote(session, setup, [[setup.ids[0]], [setup.ids[1]]])
    alloc_row = road.close_vote(session, TEST_ACTOR, setup.meeting.id, NOW)
    assert alloc_row.seed and len(alloc_row.seed) == 16
    assert services.recompute(session, alloc_row) == alloc_row.inputs_hash


def test_a_round_cannot_become_allocated_without_a_frozen_allocation(session: Session) -> None:
    round_ = make_round(session, RoundStatus.VOTING)
    with pytest.raises(NotAllowed, match="frozen"):
        transition_round(session, TEST_ACTOR, round_.id, RoundStatus.ALLOCATED)


def test_results_stay_hidden_while_open(session: Session) -> None:
    setup = make_vote_meeting(session, open_vote=True)
    _vote(session, setup, [[setup.ids[0]]])
    assert services.get_allocation(session, setup.meeting.id) is None
    with pytest.raises(NotAllowed):
        services.compare_for_meeting(session, setup.meeting.id)
    with pytest.raises(NotAllowed):
        services.export_pb(session, setup.meeting.id)


def test_export_pb_has_no_personal_data_and_reads_back(session: Session) -> None:
    setup = make_vote_meeting(session, open_vote=True)
    a, b, c, *_ = setup.ids
    _vote(session, setup, [[a, b], [c], [a]])
    road.close_vote(session, TEST_ACTOR, setup.meeting.id, NOW)
    text = services.export_pb(session, setup.meeting.id)
    election = pabulib.loads(text)
    assert {v.voter_id for v in election.votes} == {"1", "2", "3"}
    assert sorted(tuple(sorted(v.vote)) for v in election.votes) == sorted(
        [tuple(sorted([str(a), str(b)])), (str(c),), (str(a),)]
    )
    assert "test.dk" not in text and "Ansøger" not in text
    assert pabulib.allocate_election(election, "greedy").selected


def test_ballot_secrecy_schema() -> None:
    # No person, address or device, and no cast time or running number that would order the ballots.
    assert {c.name for c in Ballot.__table__.columns} == {"card_id", "channel"}
    assert {c.name for c in BallotChoice.__table__.columns} == {"card_id", "application_id"}
    assert not {fk.column.table.name for fk in BallotCard.__table__.foreign_keys} - {"meeting"}
    assert [c.name for c in Ballot.__table__.primary_key] == ["card_id"]  # one ballot per card


def _cast_and_read(session: Session, cards: list[BallotCard], votes: list[list[int]]) -> list[list[tuple]]:
    """Cast ``votes`` with ``cards`` in this order; the raw rows of both tables; then undo it all."""
    nested = session.begin_nested()
    for card, choice in zip(cards, votes):
        services.cast_ballot(session, card.id, choice, BallotChannel.PHONE)
    session.flush()
    # Read as someone with the database file would: every column, in the order rows come back.
    rows = [[tuple(r) for r in session.execute(text(f"SELECT * FROM {table}"))] for table in ("ballot", "ballot_choice")]
    nested.rollback()
    return rows


def test_stored_ballots_do_not_keep_the_order_they_were_cast_in(session: Session) -> None:
    setup = make_vote_meeting(session, open_vote=True, projects=[("A", 1000), ("B", 2000), ("C", 3000)],
                              min_choices=1, max_choices=3)
    a, b, c = setup.ids
    cards = [_card(session, issued.code) for issued in issue(session, setup, 6)]
    votes = [[c], [a, b], [b, c], [a], [a, b, c], [b]]
    first_to_last = _cast_and_read(session, cards, votes)
    last_to_first = _cast_and_read(session, cards[::-1], votes[::-1])  # the same ballots, cast the other way round
    ballots, choices = first_to_last
    assert len(ballots) == 6 and len(choices) == 10
    assert {len(row) for row in ballots + choices} == {2}  # card and channel; card and project
    if session.bind.dialect.name == "sqlite":  # PostgreSQL's heap keeps insertion order below SQL
        assert first_to_last == last_to_first
        with pytest.raises(OperationalError):  # no hidden rowid numbering the choices as they came
            session.execute(text("SELECT rowid FROM ballot_choice"))
        session.rollback()


def test_card_throttle_counts_per_ip_in_the_database(session: Session) -> None:
    setup = make_vote_meeting(session, projects=[("Projekt", 1000)], min_choices=1, max_choices=1)
    code = issue(session, setup, 1)[0].code
    for _ in range(3):
        services.register_card_failure(session, "10.0.0.1", NOW, window_seconds=600)
    card_id = services.scan_card(session, code, "10.0.0.2", NOW, limit=3, window_seconds=600)
    assert card_id == services.find_card(session, code).id  # type: ignore[union-attr]
    assert services.scan_card(session, "no-such-code", "10.0.0.2", NOW, limit=3, window_seconds=600) is None
    with pytest.raises(Throttled):  # the client used up its invalid codes
        services.scan_card(session, "no-such-code", "10.0.0.1", NOW, limit=3, window_seconds=600)
    # a valid card is never refused, even from a client that used up its allowance (a hall's NAT)
    assert services.scan_card(session, code, "10.0.0.1", NOW, limit=3, window_seconds=600) == card_id
    later = NOW + dt.timedelta(seconds=1300)
    assert services.scan_card(session, "no-such-code", "10.0.0.1", later, limit=3, window_seconds=600) is None


def test_ballot_order_is_stable_per_card_and_differs_between_cards(session: Session) -> None:
    setup = make_vote_meeting(session, projects=[(f"Projekt {n}", 1000) for n in range(12)], max_choices=5)
    projects = services.ballot_projects(session, setup.round.id)
    one = [p.id for p in services.order_for_card(projects, "a")]
    assert one == [p.id for p in services.order_for_card(projects, "a")]
    assert one != [p.id for p in services.order_for_card(projects, "b")]
    assert sorted(one) == sorted(setup.ids)


def test_compare_rules_on_a_closed_meeting(session: Session) -> None:
    setup = make_vote_meeting(session, open_vote=True)
    _vote(session, setup, [[setup.ids[0], setup.ids[1]], [setup.ids[2]]])
    road.close_vote(session, TEST_ACTOR, setup.meeting.id, NOW)
    results = services.compare_for_meeting(session, setup.meeting.id)
    assert set(results) == {"greedy", "mes"}
    assert session.scalar(select(func.count()).select_from(Allocation)) >= 1


def test_vote_meetings_are_listed_with_their_state_in_one_query(session: Session) -> None:
    from sqlalchemy import event

    from deltager.voting.models import VoteSettings

    closed = make_vote_meeting(session, open_vote=True)
    road.close_vote(session, TEST_ACTOR, closed.meeting.id, NOW)
    opened = make_vote_meeting(session, open_vote=True)
    preparing = make_vote_meeting(session)
    session.delete(session.get(VoteSettings, preparing.meeting.id))  # rules never set: the defaults apply
    session.commit()
    session.expunge_all()

    statements: list[str] = []
    engine = session.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731 (conn, cursor, statement, …)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        listed = services.list_vote_meetings(session)
        rounds = [meeting.round.title for meeting, _state in listed]  # loaded with the meetings
    finally:
        event.remove(engine, "before_cursor_execute", listener)

    selects = [statement for statement in statements if statement.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1 and len(rounds) == 3  # (the test's savepoint aside)
    states = {meeting.id: state for meeting, state in listed}
    assert states == {closed.meeting.id: VoteState.CLOSED, opened.meeting.id: VoteState.OPEN,
                      preparing.meeting.id: VoteState.PREPARING}
    assert [m.id for m, _ in services.list_vote_meetings(session, state=VoteState.CLOSED)] == [closed.meeting.id]
    assert [m.id for m, _ in services.list_vote_meetings(session, state=VoteState.PREPARING)] == [preparing.meeting.id]


FOUR = [("Et", 1_000), ("To", 1_000), ("Tre", 1_000), ("Fire", 1_000)]


@pytest.mark.parametrize(("low", "high", "field"), [(2, 6, "max_choices"), (5, 5, "min_choices"), (5, 6, "min_choices")])
def test_rules_beyond_the_ballot_are_refused_when_saved(session: Session, low: int, high: int, field: str) -> None:
    setup = make_vote_meeting(session, projects=FOUR)
    with pytest.raises(ValidationFailed, match="There are 4 projects on the ballot") as error:
        services.update_settings(session, TEST_ACTOR, setup.meeting.id,
                                 services.SettingsInput(low, high, AllocationRule.GREEDY, TieBreak.ID))
    assert error.value.field == field
    session.rollback()
    settings = services.update_settings(session, TEST_ACTOR, setup.meeting.id,
                                        services.SettingsInput(2, 4, AllocationRule.GREEDY, TieBreak.ID))
    assert (settings.min_choices, settings.max_choices) == (2, 4)  # all four may be chosen


def test_a_vote_cannot_open_with_rules_the_ballot_has_outgrown(session: Session) -> None:
    """Rules saved with six projects; two are then taken off the ballot before the vote opens."""
    setup = make_vote_meeting(session, min_choices=2, max_choices=6)
    for project in setup.projects[4:]:
        project.status = ApplicationStatus.WITHDRAWN
    session.commit()
    with pytest.raises(NotAllowed, match="so the most a voter may choose cannot be more than 4"):
        road.open_vote(session, TEST_ACTOR, setup.meeting.id, NOW)
    session.rollback()
    assert services.get_settings(session, setup.meeting.id).state is VoteState.PREPARING
