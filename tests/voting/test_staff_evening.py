"""The staff's side of a voting meeting: opening the vote asks first, ballot rules the ballot can
keep, the paper ballot printed and checked before it counts, and the cards page after issuing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deltager import road
from deltager.audit.models import AuditEvent
from deltager.permissions import Role
from deltager.rounds.models import RoundStatus
from deltager.voting import services
from deltager.voting.models import Ballot, BallotCard, CardStatus, VoteSettings, VoteState
from tests.conftest import Auth
from tests.pdf.poppler import pdf_text
from tests.voting.factories import TEST_ACTOR, issue, make_vote_meeting

FOUR = [("Skraldecaféen", 18_500), ("Gårdfest i Blok C", 12_000), ("Strikkeklub for alle", 4_000),
        ("Reparationscafé", 9_500)]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _state(session: Session, meeting_id: int) -> VoteState:
    settings = session.get(VoteSettings, meeting_id)
    assert settings is not None
    session.refresh(settings)
    return settings.state


# --------------------------------------------------------------------------- opening the vote


def test_opening_the_vote_shows_what_becomes_fixed_before_it_acts(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    setup = make_vote_meeting(session, projects=FOUR, round_status=RoundStatus.SCREENING, min_choices=2,
                              max_choices=3)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    setup.meeting.starts_at, setup.meeting.ends_at = later, later + dt.timedelta(hours=2)
    session.commit()
    mid = setup.meeting.id
    auth.login(Role.MEETING_STAFF)
    meeting_page = client.get(f"/staff/voting/{mid}").text
    assert f'href="/staff/voting/{mid}/open"' in meeting_page
    assert f'action="/staff/voting/{mid}/open"' not in meeting_page, "one click no longer opens the vote"

    page = client.get(f"/staff/voting/{mid}/open")
    text = _text(page.text)
    assert page.status_code == 200
    assert "Forløbet går videre til afstemning" in text
    assert "Stemmesedlen ligger fast med 4 projekter:" in text and "Stand 3: Strikkeklub for alle" in text
    assert "hver vælger vælger 2 til 3 projekter" in text
    assert "Der er ikke udstedt nogen stemmekort endnu." in text
    assert "afstemningen ville være åben, før mødet begynder" in text
    assert 'name="csrf_token"' in page.text and f'action="/staff/voting/{mid}/open"' in page.text
    assert _state(session, mid) is VoteState.PREPARING, "showing the page opens nothing"

    assert client.post(f"/staff/voting/{mid}/open").status_code == 303
    assert _state(session, mid) is VoteState.OPEN
    session.refresh(setup.round)
    assert setup.round.status is RoundStatus.VOTING


def test_a_vote_that_cannot_open_says_why_and_offers_no_button(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    setup = make_vote_meeting(session, projects=FOUR, min_choices=2, max_choices=6)  # saved before the rule
    auth.login(Role.CASEWORKER)
    page = client.get(f"/staff/voting/{setup.meeting.id}/open")
    assert page.status_code == 200 and "Det kan ikke gøres endnu" in page.text
    assert "Der er 4 projekter på stemmesedlen, så det største antal, en vælger må vælge, kan ikke være over 4." \
        in page.text
    assert f'action="/staff/voting/{setup.meeting.id}/open"' not in page.text
    refused = client.post(f"/staff/voting/{setup.meeting.id}/open", follow_redirects=True)
    assert "kan ikke være over 4" in refused.text
    assert _state(session, setup.meeting.id) is VoteState.PREPARING


def test_closing_the_vote_asks_on_the_same_page(client: FlaskClient, auth: Auth, session: Session) -> None:
    setup = make_vote_meeting(session, open_vote=True)
    services.set_door_count(session, TEST_ACTOR, setup.meeting.id, 3)
    session.commit()
    auth.login(Role.MEETING_STAFF)
    text = _text(client.get(f"/staff/voting/{setup.meeting.id}/close").text)
    assert "Der er afgivet 0 stemmer." in text and "Det kan ikke fortrydes." in text
    assert "3 personer, der blev talt ved døren, har ikke stemt." in text
    assert _state(session, setup.meeting.id) is VoteState.OPEN


# --------------------------------------------------------------------------- ballot rules


def test_the_rules_form_refuses_more_choices_than_projects_in_danish(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    setup = make_vote_meeting(session, projects=FOUR)
    auth.login(Role.CASEWORKER)
    form = {"min_choices": "2", "max_choices": "6", "rule": "greedy", "tie_break": "cost"}
    response = client.post(f"/staff/voting/{setup.meeting.id}/settings", data=form)
    assert response.status_code == 400
    assert "Der er 4 projekter på stemmesedlen, så det største antal, en vælger må vælge, kan ikke være over 4." \
        in response.text
    assert 'value="6"' in response.text, "the form keeps what was typed"
    settings = session.get(VoteSettings, setup.meeting.id)
    session.refresh(settings)
    assert settings is not None and settings.max_choices == 3
    assert client.post(f"/staff/voting/{setup.meeting.id}/settings",
                       data={**form, "max_choices": "4"}).status_code == 303


# --------------------------------------------------------------------------- paper ballots


def test_the_paper_ballot_pdf_lists_the_stands_and_the_rule(
    client: FlaskClient, auth: Auth, session: Session, tmp_path: Path
) -> None:
    setup = make_vote_meeting(session, projects=FOUR, min_choices=2, max_choices=3)
    auth.login(Role.MEETING_STAFF)
    assert f"/staff/voting/{setup.meeting.id}/paper-ballot.pdf" in client.get(f"/staff/voting/{setup.meeting.id}").text
    response = client.get(f"/staff/voting/{setup.meeting.id}/paper-ballot.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data, tmp_path)
    assert "Sæt kryds ved mindst 2 og højst 3 projekter." in text and "Stemmekortets nummer" in text
    for n, (title, _kr) in enumerate(FOUR, start=1):
        assert re.search(rf"Stand {n}\s+{re.escape(title)}", text)
    assert "Afstemningsmøde, 20. maj 2026 kl. 18:00" in text
    client.post("/language", data={"lang": "en"})
    english = pdf_text(client.get(f"/staff/voting/{setup.meeting.id}/paper-ballot.pdf").data, tmp_path)
    assert "Afstemningsmøde, 20. maj 2026 kl. 18:00" in english, "the municipality's document is Danish"


def test_a_paper_ballot_is_checked_before_it_counts(client: FlaskClient, auth: Auth, session: Session) -> None:
    setup = make_vote_meeting(session, projects=FOUR, open_vote=True, min_choices=2, max_choices=3)
    issue(session, setup, 3)
    auth.login(Role.MEETING_STAFF)
    mid, chosen = setup.meeting.id, [setup.ids[1], setup.ids[3]]
    entered = {"serial": "2", "choice": chosen}

    check = client.post(f"/staff/voting/{mid}/paper", data=entered)
    text = _text(check.text)
    assert check.status_code == 200 and "Tjek papirstemmesedlen" in text and "0002" in text
    assert "2 projekter valgt" in text
    assert "Stand 2: Gårdfest i Blok C" in text and "Stand 4: Reparationscafé" in text
    assert "Skraldecaféen" not in text
    assert session.scalar(select(func.count()).select_from(Ballot)) == 0, "nothing counts on the check page"

    back = client.post(f"/staff/voting/{mid}/paper", data={**entered, "serial": "0002", "step": "correct"})
    assert back.status_code == 200 and 'value="0002"' in back.text
    ticked = set(map(int, re.findall(r'name="choice" value="(\d+)" checked', back.text)))
    assert ticked == set(chosen), "going back keeps the entries"
    assert session.scalar(select(func.count()).select_from(Ballot)) == 0

    counted = client.post(f"/staff/voting/{mid}/paper/count", data={**entered, "serial": "0002"})
    assert counted.status_code == 303
    card = session.scalar(select(BallotCard).where(BallotCard.meeting_id == mid, BallotCard.serial == "0002"))
    session.refresh(card)
    assert card is not None and card.status is CardStatus.USED


def test_the_check_step_refuses_what_counting_would_refuse(client: FlaskClient, auth: Auth, session: Session) -> None:
    setup = make_vote_meeting(session, projects=FOUR, open_vote=True, min_choices=2, max_choices=3)
    issue(session, setup, 2)
    auth.login(Role.MEETING_STAFF)
    mid = setup.meeting.id
    too_few = client.post(f"/staff/voting/{mid}/paper", data={"serial": "1", "choice": [setup.ids[0]]})
    assert too_few.status_code == 400 and "Vælg mindst 2 projekter" in too_few.text
    assert 'value="1"' in too_few.text
    unknown = client.post(f"/staff/voting/{mid}/paper", data={"serial": "77", "choice": setup.ids[:2]})
    assert unknown.status_code == 400 and "Der er intet kort med nummer 77" in unknown.text
    client.post(f"/staff/voting/{mid}/paper/count", data={"serial": "1", "choice": setup.ids[:2]})
    used = client.post(f"/staff/voting/{mid}/paper", data={"serial": "1", "choice": setup.ids[:2]})
    assert used.status_code == 409 and "allerede brugt" in used.text


# --------------------------------------------------------------------------- the cards page


def test_the_cards_page_lists_its_batches_after_issuing(client: FlaskClient, auth: Auth, session: Session) -> None:
    setup = make_vote_meeting(session)
    auth.login(Role.MEETING_STAFF)
    mid = setup.meeting.id
    assert "Udstedte portioner" not in client.get(f"/staff/voting/{mid}/cards").text
    assert client.post(f"/staff/voting/{mid}/cards", data={"count": "3", "format": "csv"}).status_code == 200
    assert client.post(f"/staff/voting/{mid}/cards", data={"count": "2", "format": "pdf"}).status_code == 200
    page = client.get(f"/staff/voting/{mid}/cards")
    text = _text(page.text)
    assert "Der er udstedt 5 stemmekort til dette møde." in text
    assert "0001–0003 3 kort" in text and "0004–0005 2 kort" in text
    assert f"/staff/voting/{mid}/cards/1/again?format=pdf" in page.text
    assert f"/staff/voting/{mid}/cards/2/again?format=csv" in page.text
    assert 'data-after-download="/staff/voting/' in page.text, "with JavaScript, the page shows the new batch"


def test_replacement_cards_are_counted_apart_from_the_printed_batches(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    """A replacement card (serial E####, shown once on screen) is no printed batch: the cards page
    counts it and lists no time or serial for it (it answered 500 on its serial before)."""
    setup = make_vote_meeting(session, open_vote=True)
    issue(session, setup, 3)
    replacement = services.issue_replacement_card(session, TEST_ACTOR, setup.meeting.id, dt.datetime.now(dt.UTC))
    session.commit()
    auth.login(Role.MEETING_STAFF)
    page = client.get(f"/staff/voting/{setup.meeting.id}/cards")
    assert page.status_code == 200
    text = _text(page.text)
    assert "0001–0003 3 kort" in text and "1 erstatningskort er vist på skærmen" in text
    assert replacement.serial not in text


def test_a_batch_downloaded_again_gets_new_codes_for_its_unused_cards(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    setup = make_vote_meeting(session, open_vote=True, min_choices=1, max_choices=2)
    old = issue(session, setup, 3)
    services.cast_ballot(session, session.scalar(select(BallotCard.id).where(BallotCard.serial == "0001")),
                         [setup.ids[0]], services.BallotChannel.PAPER)
    session.commit()
    auth.login(Role.MEETING_STAFF)
    mid = setup.meeting.id

    confirm = client.get(f"/staff/voting/{mid}/cards/1/again?format=csv")
    text = _text(confirm.text)
    assert confirm.status_code == 200
    assert "2 kort i denne portion er ikke brugt: de får nye koder" in text
    assert "holder op med at virke" in text and "Afstemningen er åben" in text
    assert "1 kort i portionen, som er brugt eller annulleret, kommer ikke med." in text
    assert 'name="format" value="csv"' in confirm.text
    assert services.find_card(session, old[1].code) is not None, "showing the page changes nothing"

    response = client.post(f"/staff/voting/{mid}/cards/1/again", data={"format": "csv"})
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["serial"] for r in rows] == ["0002", "0003"]
    session.expire_all()
    assert services.find_card(session, old[1].code) is None, "the card printed earlier no longer works"
    for row in rows:
        card = services.find_card(session, row["url"].rsplit("/", 1)[1])
        assert card is not None and card.serial == row["serial"]
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "voting.cards_renew"))
    assert event is not None and event.after == {"batch": 1, "count": 2}
    assert client.get(f"/staff/voting/{mid}/cards/9/again").status_code == 404
    assert client.get(f"/staff/voting/{mid}/cards/1/again?format=exe").status_code == 404


def test_a_batch_with_no_unused_card_or_a_closed_vote_cannot_be_printed_again(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    setup = make_vote_meeting(session, open_vote=True, min_choices=1, max_choices=2)
    issue(session, setup, 1)
    services.void_card(session, TEST_ACTOR, setup.meeting.id, "1", dt.datetime.now(dt.UTC))
    session.commit()
    auth.login(Role.CASEWORKER)
    page = client.get(f"/staff/voting/{setup.meeting.id}/cards/1/again")
    assert "Det kan ikke gøres endnu" in page.text and "der er intet at udskrive igen" in page.text
    assert 'name="format"' not in page.text, "no button"
    refused = client.post(f"/staff/voting/{setup.meeting.id}/cards/1/again", follow_redirects=True)
    assert "der er intet at udskrive igen" in refused.text
    issue(session, setup, 2)  # batch 2: unused cards, but the vote closes
    road.close_vote(session, TEST_ACTOR, setup.meeting.id, dt.datetime.now(dt.UTC))
    session.commit()
    closed = client.get(f"/staff/voting/{setup.meeting.id}/cards/2/again")
    assert "Afstemningen er lukket. Der kan ikke udstedes flere kort." in closed.text
    assert 'name="format"' not in closed.text
    refused = client.post(f"/staff/voting/{setup.meeting.id}/cards/2/again", follow_redirects=True)
    assert "Der kan ikke udstedes flere kort." in refused.text
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "voting.cards_renew")) == 0
