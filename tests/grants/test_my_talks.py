"""The grantee sees their booked follow-up talks on their grant page and saves one as a calendar
file; another grantee's talk is not found (the object-level matrix in tests/core/test_object_access.py
covers the route for every reader)."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from deltager.applications.models import Application
from deltager.db import utcnow
from deltager.grants import services
from tests.applications.conftest import sign_in_as
from tests.grants.factories import STAFF, make_granted_round


def test_the_grantee_sees_a_booked_talk_and_downloads_it_another_grantee_cannot(
        client: FlaskClient, session: Session) -> None:
    setup = make_granted_round(session)
    mine, theirs = setup.grants[1], setup.grants[2]
    now = utcnow()
    talk = services.book_follow_up(session, STAFF, mine.id, now + dt.timedelta(days=5), "Rådhuset, lokale 2", now)
    other = services.book_follow_up(session, STAFF, theirs.id, now + dt.timedelta(days=6), "Biblioteket", now)
    session.commit()
    application = session.get(Application, mine.application_id)
    assert application is not None
    sign_in_as(client, application.applicant)
    page = client.get(f"/apply/{application.id}/grant").text
    assert "Rådhuset, lokale 2" in page and "Biblioteket" not in page
    own_url = f"/apply/{application.id}/grant/talks/{talk.id}/talk.ics"
    assert own_url in page
    ics = client.get(own_url)
    assert ics.status_code == 200 and ics.mimetype == "text/calendar" and b"BEGIN:VCALENDAR" in ics.data
    assert b"Content-Disposition" not in ics.data and "attachment" in ics.headers["Content-Disposition"]
    # Another grant's talk, through my own application: not found (as a talk that does not exist).
    assert client.get(f"/apply/{application.id}/grant/talks/{other.id}/talk.ics").status_code == 404
