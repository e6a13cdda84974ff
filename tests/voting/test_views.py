"""The voting pages: scanning a card, the phone ballot, the big screen, and the staff pages."""

from __future__ import annotations

import datetime as dt
import logging
import re
import sqlite3
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deltager import road
from deltager.audit.models import AuditEvent
from deltager.db import utcnow
from deltager.permissions import Role
from deltager.voting import comparison, services
from deltager.voting.models import Allocation, Ballot, BallotCard, CardStatus, VoteSettings, VoteState
from deltager.voting.views import CARD_COOKIE
from tests.conftest import Auth, csrf_token
from tests.voting.factories import NOW, TEST_ACTOR, cast_ballots, issue, make_vote_meeting

LONG_SUMMARY = "Vi mødes hver uge og laver mad sammen med naboerne i gården. " * 5


def _scan(client: FlaskClient, code: str) -> Any:
    return client.get(f"/v/{code}")


def _setup(session: Session, **kw: Any) -> Any:
    kw.setdefault("open_vote", True)
    return make_vote_meeting(session, **kw)


def _choice_query(ids: list[int]) -> str:
    return "&".join(f"choice={i}" for i in ids)


def _confirm(client: FlaskClient, ids: list[int], **data: Any) -> Any:
    """The confirmation step, as the ballot's form sends it: the choices in a POST body."""
    return client.post("/ballot/confirm", data={"choice": ids, **data})


def test_scan_sets_a_safe_cookie_and_redirects_without_the_code(
    client: FlaskClient, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    setup = _setup(session)
    code = issue(session, setup, 1)[0].code
    caplog.set_level(logging.DEBUG)
    response = _scan(client, code)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/ballot")
    assert code not in response.headers["Location"]
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{CARD_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert code not in cookie
    page = client.get("/ballot")
    assert page.status_code == 200
    assert code not in page.get_data(as_text=True)
    assert all(code not in record.getMessage() for record in caplog.records)


def test_the_cookie_is_secure_on_https(app: Flask, session: Session) -> None:
    setup = _setup(session)
    code = issue(session, setup, 1)[0].code
    response = app.test_client().get(f"/v/{code}", base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_invalid_codes_are_counted_per_ip_and_throttled(app: Flask, client: FlaskClient, session: Session) -> None:
    app.config["VOTING_THROTTLE_LIMIT"] = 3
    setup = _setup(session)
    good = issue(session, setup, 1)[0].code
    for _ in range(3):
        response = _scan(client, "x" * 24)
        assert response.status_code == 404
        assert "ikke genkendt" in response.get_data(as_text=True) or "not recognised" in response.get_data(as_text=True)
    assert _scan(client, "y" * 24).status_code == 429
    other = app.test_client()
    assert other.get("/v/" + "z" * 24, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 404


def test_a_valid_card_is_never_throttled(app: Flask, client: FlaskClient, session: Session) -> None:
    """One person sending wrong codes from the hall's NAT address must not stop the hall voting."""
    app.config["VOTING_THROTTLE_LIMIT"] = 3
    setup = _setup(session, min_choices=1, max_choices=1)
    good = issue(session, setup, 1)[0].code
    for _ in range(4):
        _scan(app.test_client(), "x" * 24)
    assert _scan(app.test_client(), "y" * 24).status_code == 429
    assert _scan(client, good).status_code == 303
    voted = client.post("/ballot", data={"choice": [str(setup.ids[0])]})
    assert voted.status_code == 303
    assert session.scalar(select(func.count()).select_from(Ballot)) == 1


def test_phone_vote_from_ballot_to_thanks(client: FlaskClient, session: Session) -> None:
    setup = _setup(session, min_choices=2, max_choices=3)
    code = issue(session, setup, 1)[0].code
    _scan(client, code)
    page = client.get("/ballot").get_data(as_text=True)
    for project in setup.projects:
        assert project.title in page
    assert "mellem 2 og 3" in page
    confirm = _confirm(client, setup.ids[:2])
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert setup.projects[0].title in text and setup.projects[2].title not in text
    cast = client.post("/ballot", data={"choice": setup.ids[:2]})
    assert cast.status_code == 303 and cast.headers["Location"].endswith("/ballot/done")
    assert "Tak for din stemme" in client.get("/ballot/done").get_data(as_text=True)
    again = client.get("/ballot")
    assert "allerede brugt" in again.get_data(as_text=True)
    second = client.post("/ballot", data={"choice": setup.ids[2:4]})
    assert second.status_code == 409
    assert "allerede brugt" in second.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Ballot)) == 1
    # Whoever voted and taps again (a lost answer on the hall's Wi-Fi) learns that the vote counts.
    for page in (again, second):
        assert "Har du selv stemt med kortet, er din stemme talt med" in page.get_data(as_text=True)


def _ticked(page: str, app_id: int) -> bool:
    return re.search(rf'value="{app_id}"\s+aria-describedby="s{app_id}"\s+checked', page) is not None


def test_no_address_carries_a_choice(app: Flask, client: FlaskClient, session: Session) -> None:
    """Choices travel in POST bodies only: a choice in a query string ticks nothing, confirms
    nothing and casts nothing, on every phone route; the ballot and confirmation forms POST."""
    setup = _setup(session, min_choices=2, max_choices=3)
    _scan(client, issue(session, setup, 1)[0].code)
    query = _choice_query(setup.ids[:2])
    ballot = client.get(f"/ballot?{query}")
    assert ballot.status_code == 200 and not any(_ticked(ballot.get_data(as_text=True), i) for i in setup.ids)
    assert re.search(r'<form method="post" action="/ballot/confirm"', ballot.get_data(as_text=True))
    old_link = client.get(f"/ballot/confirm?{query}")
    assert old_link.status_code == 303 and old_link.headers["Location"].endswith("/ballot")
    assert "choice" not in old_link.headers["Location"]
    posted = client.post(f"/ballot/confirm?{query}")
    assert posted.status_code == 400 and "Tjek din stemme" not in posted.get_data(as_text=True)
    changed = client.post(f"/ballot/change?{query}").get_data(as_text=True)
    assert not any(_ticked(changed, i) for i in setup.ids)
    assert client.post(f"/ballot?{query}").status_code == 400
    assert session.scalar(select(func.count()).select_from(Ballot)) == 0
    # Every route a phone can GET without arguments ignores ?choice= as well.
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("voting.") and "GET" in (rule.methods or ()) and not rule.arguments:
            page = client.get(f"{rule.rule}?{query}").get_data(as_text=True)
            assert "Tjek din stemme" not in page and not any(_ticked(page, i) for i in setup.ids), rule.rule
    confirm = _confirm(client, setup.ids[:2]).get_data(as_text=True)
    assert "Tjek din stemme" in confirm
    assert "choice=" not in confirm, "no link on the confirmation carries the choices"
    assert re.search(r'<button type="submit" class="button" formaction="/ballot/change">', confirm)
    back = client.post("/ballot/change", data={"choice": setup.ids[:2]}).get_data(as_text=True)
    assert _ticked(back, setup.ids[0]) and _ticked(back, setup.ids[1]) and not _ticked(back, setup.ids[2])


def test_only_a_used_card_is_told_its_vote_counts(client: FlaskClient, session: Session) -> None:
    setup = _setup(session, min_choices=1, max_choices=2)
    card = issue(session, setup, 1)[0]
    services.void_card(session, TEST_ACTOR, setup.meeting.id, card.serial, NOW)
    session.commit()
    _scan(client, card.code)
    page = client.get("/ballot").get_data(as_text=True)
    assert "annulleret" in page and "din stemme er talt med" not in page


def test_invalid_choices_reshow_the_ballot_with_a_danish_message(client: FlaskClient, session: Session) -> None:
    setup = _setup(session, min_choices=2, max_choices=3)
    _scan(client, issue(session, setup, 1)[0].code)
    response = _confirm(client, setup.ids[:1])
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Vælg mindst 2 projekter" in text
    assert re.search(rf'value="{setup.ids[0]}"\s+aria-describedby="s{setup.ids[0]}"\s+checked', text), "the tick is kept"
    too_many = client.post("/ballot", data={"choice": setup.ids[:4]})
    assert too_many.status_code == 400 and "Vælg højst 3" in too_many.get_data(as_text=True)
    junk = client.post("/ballot", data={"choice": ["abc"]})
    assert junk.status_code == 400
    assert session.scalar(select(func.count()).select_from(Ballot)) == 0


def test_ballot_order_is_stable_per_card(client: FlaskClient, app: Flask, session: Session) -> None:
    setup = _setup(session, projects=[(f"Projekt nummer {n:02d}", 1000) for n in range(15)])
    one, two = issue(session, setup, 2)

    def order(c: FlaskClient, code: str) -> list[str]:
        _scan(c, code)
        return re.findall(r"Projekt nummer \d\d", c.get("/ballot").get_data(as_text=True))

    first = order(client, one.code)
    assert first == order(client, one.code)
    assert first != order(app.test_client(), two.code)


def test_kept_ballot_entries_follow_edits_language_and_ticks(client: FlaskClient, session: Session) -> None:
    """The ballot's entries are kept per worker; an edit or a tick makes a new entry, never a stale one."""
    setup = _setup(session, projects=[("Suppe i gården", 4000), ("Strikkeklub", 3000)], max_choices=2)
    _scan(client, issue(session, setup, 1)[0].code)
    assert "Suppe i gården" in client.get("/ballot").get_data(as_text=True)
    setup.projects[0].title = "Suppe og sang i gården"
    setup.projects[0].requested_ore = 4_500_00
    session.commit()
    page = client.get("/ballot").get_data(as_text=True)
    assert "Suppe og sang i gården" in page and "4.500 kr." in page
    assert "Suppe i gården" not in page
    client.post("/language", data={"lang": "en", "next": "/ballot"})
    english = client.post("/ballot/change", data={"choice": setup.ids[1:]}).get_data(as_text=True)
    assert '<html lang="en">' in english and "Suppe og sang i gården" in english
    assert re.search(rf'value="{setup.ids[1]}"\s+aria-describedby="s{setup.ids[1]}"\s+checked', english)
    assert not re.search(rf'value="{setup.ids[0]}"\s+aria-describedby="s{setup.ids[0]}"\s+checked', english)


def test_ballot_page_is_small_and_needs_no_script(client: FlaskClient, session: Session) -> None:
    projects = [(f"Et projekt med en ret lang titel for at fylde godt op nr. {n}", 25_000) for n in range(25)]
    setup = make_vote_meeting(session, projects=projects, open_vote=False)
    for p in setup.projects:
        p.summary = LONG_SUMMARY[:300]
    session.commit()
    road.open_vote(session, services.Actor.system("test"), setup.meeting.id, services.dt.datetime.now(services.dt.UTC))
    session.commit()
    _scan(client, issue(session, setup, 1)[0].code)
    body = client.get("/ballot").get_data()
    assert len(body) < 30 * 1024, f"ballot page is {len(body)} bytes"
    assert b"<script" not in body and b"style=" not in body


def test_no_card_used_card_voided_and_not_open(client: FlaskClient, session: Session) -> None:
    assert "Scan" in client.get("/ballot").get_data(as_text=True)
    setup = _setup(session, open_vote=False)
    cards = issue(session, setup, 2)
    _scan(client, cards[0].code)
    waiting = client.get("/ballot").get_data(as_text=True)
    assert "ikke åbnet" in waiting
    # The phone asks again by itself until the vote opens, with JavaScript off too.
    assert '<meta http-equiv="refresh" content="20; url=/ballot">' in waiting
    road.open_vote(session, services.Actor.system("t"), setup.meeting.id, services.dt.datetime.now(services.dt.UTC))
    services.void_card(session, services.Actor.system("t"), setup.meeting.id, cards[0].serial,
                       services.dt.datetime.now(services.dt.UTC))
    session.commit()
    voided = client.get("/ballot").get_data(as_text=True)
    assert "annulleret" in voided and 'http-equiv="refresh"' not in voided  # nothing to wait for
    assert client.post("/ballot", data={"choice": setup.ids[:1]}).status_code == 409


def test_forged_cookie_is_ignored(client: FlaskClient, session: Session) -> None:
    setup = _setup(session)
    issue(session, setup, 1)
    client.set_cookie(CARD_COOKIE, "1")
    assert "Scan" in client.get("/ballot").get_data(as_text=True)
    assert client.post("/ballot", data={"choice": setup.ids[:1]}).status_code == 400


class TestCsrf:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"WTF_CSRF_ENABLED": True}

    def test_cast_needs_the_csrf_token(self, client: FlaskClient, session: Session) -> None:
        setup = _setup(session)
        _scan(client, issue(session, setup, 1)[0].code)
        assert client.post("/ballot", data={"choice": setup.ids[:1]}).status_code == 400
        ballot = client.get("/ballot").get_data(as_text=True)
        assert _confirm(client, setup.ids[:1]).status_code == 400, "the confirmation step needs the token too"
        page = _confirm(client, setup.ids[:1], csrf_token=csrf_token(ballot)).get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token
        ok = client.post("/ballot", data={"choice": setup.ids[:1], "csrf_token": token.group(1)})
        assert ok.status_code == 303


def _turnout(client: FlaskClient, meeting_id: int) -> Any:
    return client.get(f"/m/{meeting_id}/turnout.json")


def test_screen_and_turnout_show_no_results_while_open(client: FlaskClient, auth: Auth, session: Session) -> None:
    setup = _setup(session)
    cards = issue(session, setup, 3)
    for card in cards[:2]:
        c = client.application.test_client()
        _scan(c, card.code)
        c.post("/ballot", data={"choice": setup.ids[:1]})
    response = _turnout(client, setup.meeting.id)
    assert response.get_json() == {"state": "open", "cards": 3, "ballots": 2}
    assert response.headers["Cache-Control"] == "public, max-age=2" and response.headers["ETag"]
    again = client.get(f"/m/{setup.meeting.id}/turnout.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    screen = client.get(f"/m/{setup.meeting.id}/screen").get_data(as_text=True)
    assert "voting-screen.js" in screen and 'http-equiv="refresh"' in screen
    assert setup.projects[0].title not in screen
    # a projector view: cards handed out beside ballots cast, and no navigation, language switch or footer
    assert re.search(r'Udleverede stemmekort</dt><dd id="turnout-cards">3</dd>', screen)
    assert re.search(r'Afgivne stemmesedler</dt><dd id="turnout-count">2</dd>', screen)
    assert "<nav" not in screen and "language-switch" not in screen and "<footer" not in screen
    assert "/login" not in screen
    auth.login(Role.CASEWORKER)
    staff = client.get(f"/staff/voting/{setup.meeting.id}").get_data(as_text=True)
    assert "skjult" in staff
    assert "Ikke støttet" not in staff and 'class="result-table"' not in staff
    assert client.get(f"/staff/voting/{setup.meeting.id}/protocol.pdf").status_code == 404
    assert client.get(f"/staff/voting/{setup.meeting.id}/ballots.pb").status_code == 404


def test_staff_run_the_meeting_end_to_end(client: FlaskClient, auth: Auth, session: Session) -> None:
    setup = make_vote_meeting(session, stands=False, open_vote=False)
    auth.login(Role.CASEWORKER)
    mid = setup.meeting.id
    assert client.get(f"/staff/voting/{mid}").status_code == 200
    form = {"min_choices": "1", "max_choices": "2", "rule": "greedy", "tie_break": "lottery"}
    assert client.post(f"/staff/voting/{mid}/settings", data=form).status_code == 303
    bad = client.post(f"/staff/voting/{mid}/settings", data={**form, "max_choices": "0"})
    assert bad.status_code == 400
    assert client.post(f"/staff/voting/{mid}/stands/auto").status_code == 303
    stands = {f"stand-{setup.ids[0]}": "7", f"stand-{setup.ids[1]}": "7"}
    dup = client.post(f"/staff/voting/{mid}/stands", data=stands)
    assert dup.status_code == 400 and "bruges to gange" in dup.get_data(as_text=True)
    csv_file = client.post(f"/staff/voting/{mid}/cards", data={"count": "3", "format": "csv"})
    assert csv_file.status_code == 200 and csv_file.mimetype == "text/csv"
    assert "attachment" in csv_file.headers["Content-Disposition"]
    rows = csv_file.get_data(as_text=True).splitlines()
    assert rows[0] == "serial,url" and rows[1].startswith("0001,http://localhost/v/")
    pdf = client.post(f"/staff/voting/{mid}/cards", data={"count": "2", "format": "pdf"})
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    posters = client.get(f"/staff/voting/{mid}/posters.pdf")
    assert posters.status_code == 200 and posters.data.startswith(b"%PDF")
    assert "Stemmesedlen ligger fast med 6 projekter" in client.get(f"/staff/voting/{mid}/open").text
    assert client.post(f"/staff/voting/{mid}/open").status_code == 303
    assert session.get(VoteSettings, mid).state is VoteState.OPEN  # type: ignore[union-attr]

    voter = client.application.test_client()
    _scan(voter, rows[1].split(",", 1)[1].rsplit("/", 1)[1])
    assert voter.post("/ballot", data={"choice": setup.ids[:2]}).status_code == 303
    paper = client.post(f"/staff/voting/{mid}/paper", data={"serial": "2", "choice": [setup.ids[2]]})
    assert paper.status_code == 200 and "Tjek papirstemmesedlen" in paper.text  # nothing counts yet
    paper = client.post(f"/staff/voting/{mid}/paper/count", data={"serial": "2", "choice": [setup.ids[2]]})
    assert paper.status_code == 303
    twice = client.post(f"/staff/voting/{mid}/paper", data={"serial": "1", "choice": [setup.ids[2]]})
    assert twice.status_code == 409 and "allerede brugt" in twice.get_data(as_text=True)
    too_many = client.post(f"/staff/voting/{mid}/paper", data={"serial": "3", "choice": setup.ids[:3]})
    assert too_many.status_code == 400 and "Vælg højst 2" in too_many.get_data(as_text=True)
    replaced = client.post(f"/staff/voting/{mid}/void", data={"serial": "3", "replace": "1"})
    assert replaced.status_code == 200 and "data:image/svg+xml;base64," in replaced.get_data(as_text=True)
    assert client.post(f"/staff/voting/{mid}/door", data={"door_count": "5"}).status_code == 303
    page = client.get(f"/staff/voting/{mid}").get_data(as_text=True)
    assert "Brugt på papir" in page

    assert "Luk afstemningen" in client.get(f"/staff/voting/{mid}/close").get_data(as_text=True)
    assert client.post(f"/staff/voting/{mid}/close").status_code == 303
    allocation = session.scalar(select(Allocation).where(Allocation.meeting_id == mid))
    assert allocation is not None and allocation.frozen and allocation.seed
    screen = client.get(f"/m/{mid}/screen").get_data(as_text=True)
    assert setup.projects[0].title in screen and allocation.trace_da[0] in screen
    assert f'<p class="rule-explained">{allocation.trace_da[0]}</p>' in screen, "the rule in one sentence"
    for line in services.result_lines(session, allocation):  # each project's reason in its row
        assert line.reason_da and f'<td class="reason">{line.reason_da}</td>' in screen
    assert '<ul class="trace-lines">' in screen, "the steps carry their own numbers: no second numbering"
    # money and ballots apart: "Ikke fordelt: 13.000 kr. · 10 stemmer" read as if the votes were the money's
    assert re.search(r"<dt>Ikke fordelt</dt><dd>[\d.]+ kr\.</dd>\s*<dt>Afgivne stemmesedler</dt><dd>2</dd>", screen)
    assert "·" not in screen.split("<main", 1)[1]
    round_page = client.get(f"/rounds/{setup.round.id}").get_data(as_text=True)
    assert allocation.trace_da[1] in round_page and '<details class="trace">' in round_page
    protocol = client.get(f"/staff/voting/{mid}/protocol.pdf")
    assert protocol.status_code == 200 and protocol.data.startswith(b"%PDF")
    pb = client.get(f"/staff/voting/{mid}/ballots.pb")
    assert pb.status_code == 200 and "VOTES" in pb.get_data(as_text=True)
    public = client.get(f"/rounds/{setup.round.id}").get_data(as_text=True)
    assert "Resultatet af afstemningen" in public
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"voting.settings", "voting.stands", "voting.cards_issue", "voting.open", "voting.paper_ballot",
            "voting.card_void", "voting.door_count", "voting.close", "voting.allocate"} <= actions
    statuses = dict(session.execute(select(BallotCard.serial, BallotCard.status).where(BallotCard.meeting_id == mid)).all())
    assert statuses["0003"] is CardStatus.VOIDED and "0006" not in statuses
    [replacement] = [serial for serial in statuses if serial.startswith("E")]
    assert statuses[replacement] is CardStatus.ISSUED and replacement in replaced.get_data(as_text=True)


SMALL_PB = (
    "META\nkey;value\ndescription;test\ncountry;Denmark\nunit;x\ninstance;x\nnum_projects;3\nnum_votes;3\n"
    "budget;100\nvote_type;approval\nrule;greedy\n"
    "PROJECTS\nproject_id;cost;name\n1;60;Alfa\n2;50;Beta\n3;40;Gamma\n"
    "VOTES\nvoter_id;vote\n1;1,2\n2;1\n3;2,3\n"
).encode()


def _compare_upload(client: FlaskClient, content: bytes) -> Any:
    import io

    return client.post("/staff/voting/compare", data={"pb_file": (io.BytesIO(content), "x.pb"), "tie_break": "id"},
                       content_type="multipart/form-data")


def test_compare_rules_on_an_uploaded_pb_file(client: FlaskClient, auth: Auth) -> None:
    auth.login(Role.CASEWORKER)
    response = _compare_upload(client, SMALL_PB)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Alfa" in text and "Metoden med lige andele" in text
    broken = _compare_upload(client, b"nonsense")
    assert broken.status_code == 200 and "kunne ikke læses" in broken.get_data(as_text=True)


def test_the_rule_comparison_holds_no_write_lock_while_it_computes(
    file_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not file_app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("a POST's write transaction locks the database on SQLite only; PostgreSQL reads lock nothing")
    client = file_app.test_client()
    Auth(file_app, client).login(Role.CASEWORKER)
    database = file_app.config["DATABASE_URL"].removeprefix("sqlite:///")
    real = comparison.compare_in_time
    writer_got_the_lock: list[bool] = []

    def computing(*args: Any, **kwargs: Any) -> Any:
        other = sqlite3.connect(database, timeout=0, isolation_level=None)  # another worker, not waiting
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            writer_got_the_lock.append(True)
        except sqlite3.OperationalError:
            writer_got_the_lock.append(False)
        finally:
            other.close()
        return real(*args, **kwargs)

    monkeypatch.setattr(comparison, "compare_in_time", computing)
    response = _compare_upload(client, SMALL_PB)

    assert response.status_code == 200 and "Metoden med lige andele" in response.get_data(as_text=True)
    assert writer_got_the_lock == [True], "ballots could be cast while the rules were compared"


def test_compare_shows_greedy_alone_when_equal_shares_runs_out_of_time(
    client: FlaskClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deltager.voting import comparison

    monkeypatch.setattr(comparison, "COMPARE_SECONDS", -1)  # the deadline has passed before Equal Shares starts
    auth.login(Role.CASEWORKER)
    response = _compare_upload(client, SMALL_PB)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Metoden med lige andele blev ikke færdig" in text and "flask --app wsgi pb allocate" in text
    assert 'id="rule-greedy"' in text and 'id="rule-mes"' not in text and "Alfa" in text


@pytest.mark.parametrize(
    ("role", "path", "allowed"),
    [
        (Role.MEETING_STAFF, "/staff/voting/{mid}/paper", True),
        (Role.MEETING_STAFF, "/staff/voting/{mid}/settings", False),
        (Role.MEETING_STAFF, "/staff/voting/{mid}/cards", True),
        (Role.MEETING_STAFF, "/staff/voting/{mid}/stands", False),
        (Role.VIEWER, "/staff/voting/{mid}", True),
        (Role.VIEWER, "/staff/voting/{mid}/void", False),
    ],
)
def test_who_may_do_what(client: FlaskClient, auth: Auth, session: Session, role: Role, path: str, allowed: bool) -> None:
    setup = _setup(session)
    auth.login(role)
    status = client.get(path.format(mid=setup.meeting.id)).status_code
    assert (status == 200) is allowed and (status == 403) is (not allowed)


def test_staff_pages_need_sign_in(client: FlaskClient, session: Session) -> None:
    setup = _setup(session)
    assert client.get(f"/staff/voting/{setup.meeting.id}").status_code in (302, 303)


def test_ballot_thumbnails_are_served_only_for_projects_on_the_ballot(client: FlaskClient, session: Session) -> None:
    from deltager.applications.models import ApplicationStatus, Photo

    setup = _setup(session)
    for app_ in setup.projects[:2]:
        session.add(Photo(application_id=app_.id, content=b"big", thumbnail=b"\xff\xd8thumb", width=10, height=10))
    setup.projects[1].status = ApplicationStatus.WITHDRAWN
    session.commit()
    _scan(client, issue(session, setup, 1)[0].code)
    assert f"/applications/{setup.ids[0]}/thumbnail.jpg" in client.get("/ballot").get_data(as_text=True)
    response = client.get(f"/applications/{setup.ids[0]}/thumbnail.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg" and response.data == b"\xff\xd8thumb"
    assert client.get(f"/applications/{setup.ids[1]}/thumbnail.jpg").status_code == 404
    assert client.get(f"/applications/{setup.ids[2]}/thumbnail.jpg").status_code == 404


def test_a_voting_meetings_page_offers_only_what_its_vote_allows(
    client: FlaskClient, session: Session, auth: Auth
) -> None:
    setup = _setup(session, open_vote=False)
    meeting_id = setup.meeting.id
    soon = utcnow() + dt.timedelta(hours=1)  # a meeting still ahead, so it could be cancelled
    setup.meeting.starts_at, setup.meeting.ends_at = soon, soon + dt.timedelta(hours=3)
    session.commit()
    auth.login(Role.ADMIN)
    actions = {"edit": f"/staff/meetings/{meeting_id}/edit", "cancel": f"/staff/meetings/{meeting_id}/cancel"}

    def offered() -> set[str]:
        page = client.get(f"/staff/meetings/{meeting_id}").get_data(as_text=True)
        return {name for name, url in actions.items() if url in page}

    assert offered() == {"edit", "cancel"}
    road.open_vote(session, TEST_ACTOR, meeting_id, NOW)
    session.commit()
    assert offered() == {"edit"}  # an open vote's meeting may be corrected, not cancelled
    page = client.get(f"/staff/meetings/{meeting_id}").get_data(as_text=True)
    history = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "Afstemning åbnet Afstemningen: Under forberedelse → Åben for stemmer" in history
    assert "state:" not in history and "preparing" not in history
    road.close_vote(session, TEST_ACTOR, meeting_id, NOW)
    session.commit()
    assert offered() == set()


def test_the_protocol_is_danish_from_an_english_session(
    client: FlaskClient, auth: Auth, session: Session, tmp_path: Any
) -> None:
    """The protocol is the municipality's record: an English reader downloads the Danish one."""
    from tests.pdf.poppler import pdf_text

    setup = _setup(session)
    cast_ballots(session, setup, [setup.ids[:2], setup.ids[:1]])
    road.close_vote(session, TEST_ACTOR, setup.meeting.id, NOW)
    session.commit()
    auth.login(Role.CASEWORKER)
    client.set_cookie("lang", "en")
    assert "Voting meetings" in client.get(f"/staff/voting/{setup.meeting.id}").get_data(as_text=True)
    response = client.get(f"/staff/voting/{setup.meeting.id}/protocol.pdf")
    text = re.sub(r"\s+", " ", pdf_text(response.data, tmp_path))
    assert "Protokol for afstemningsmøde" in text
    assert "Fordelingsregel Flest stemmer først" in text  # the rule's label, in Danish
    assert "Flest stemmer først: projekterne tages i rækkefølge efter stemmetal" in text  # the Danish trace
    assert " kl. " in text  # the Danish date
    assert not re.search(r"\b(Most votes|funded|votes|left in the pot|Lowest application)\b", text)

