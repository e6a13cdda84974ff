"""Every HTML page goes out as ``text/html; charset=utf-8``, whichever view and response class made it.

A browser shows a page sent as ``text/plain`` as its source: a replacement ballot card's QR
code was lost that way. The walk opens every route of the url_map with the demo's objects as a
reader allowed there, submits every form it finds, and cancels a card with a replacement.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from sqlalchemy import select
from werkzeug.wrappers import Response

from deltager.db import get_db
from deltager.voting.models import BallotCard, CardStatus, VoteSettings, VoteState
from deltager.web import public
from tests.walk import NOT_SUBMITTED, Readers, Recorder, argument_values, demo_app, endpoint_of, rules, urls, walk_pages

HTML = "text/html; charset=utf-8"


def _is_html(response: Any) -> bool:
    return bool(response.get_data()[:64].lstrip().lower().startswith(b"<!doctype html"))


def _open_vote_card(app: Flask) -> tuple[int, str]:
    """An unused card of the demo's open vote: (meeting id, serial)."""
    with app.app_context():
        session = get_db(app).session()
        meeting_id, serial = session.execute(
            select(BallotCard.meeting_id, BallotCard.serial).join(VoteSettings, VoteSettings.meeting_id == BallotCard.meeting_id)
            .where(BallotCard.status == CardStatus.ISSUED, VoteSettings.state == VoteState.OPEN).limit(1)
        ).one()
        session.close()
    return meeting_id, serial


def test_every_page_is_sent_as_html(file_app: Flask) -> None:
    app = demo_app(file_app)
    readers = Readers(app)
    with app.app_context(), get_db(app).session() as session:  # closed: an open read would block closing the vote
        values = argument_values(session)
    wrong: dict[str, str] = {}
    answered: set[str] = set()

    def check(endpoint: str, url: str, response: Any) -> None:
        assert response.status_code < 500, (url, response.status_code)
        answered.add(endpoint)
        if _is_html(response) and response.content_type != HTML:
            wrong[f"{response.request.method} {url}"] = response.content_type

    with Recorder().on(app) as recorder:
        meeting_id, serial = _open_vote_card(app)
        void_url = f"/staff/voting/{meeting_id}/void"
        check("voting.void", void_url, readers.admin.post(void_url, data={"serial": serial, "replace": "1"}))
        assert "voting/replacement.html" in recorder.templates, "the replacement card page was not reached"

        pages = walk_pages(app, readers, values, check)
        for url, forms in pages.items():
            for form in forms:
                endpoint = endpoint_of(app, form.action)
                if endpoint is None or endpoint in NOT_SUBMITTED:
                    continue
                client = readers.for_url(endpoint, form.action)
                check(endpoint, form.action, client.post(form.action, data=form.fields))
        for rule in rules(app):  # POSTs that no page offered here (a voter's ballot, a citizen's sign-up)
            if "POST" in (rule.methods or ()) and rule.endpoint not in answered | NOT_SUBMITTED:
                for url in urls(rule, values):
                    check(rule.endpoint, url, readers.for_url(rule.endpoint, url).post(url, data={}))

    assert wrong == {}
    unreached = {rule.endpoint for rule in rules(app)} - answered
    assert unreached == NOT_SUBMITTED, sorted(unreached)


def test_a_page_built_with_werkzeugs_response_class_is_still_html(app: Flask) -> None:
    """werkzeug's Response defaults to text/plain; the shared check corrects it for any page."""

    @app.get("/test-werkzeug-page")
    @public
    def werkzeug_page() -> Response:
        return Response(render_template("errors/error.html", code=404))

    @app.get("/test-plain-text")
    @public
    def plain_text() -> Response:
        return Response("ok\n", mimetype="text/plain")

    client = app.test_client()
    assert client.get("/test-werkzeug-page").content_type == HTML
    assert client.get("/test-plain-text").content_type == "text/plain; charset=utf-8"
