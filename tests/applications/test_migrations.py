"""0009 (people without e-mail) keeps every applicant, application, sign-in link and sign-up, down and
up again, with foreign keys on: on SQLite the NOT NULL is changed without copying ``applicant``."""

from __future__ import annotations

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from deltager import migrate
from deltager.applications import services
from deltager.applications.models import Applicant, Application, SignInToken
from deltager.db import utcnow
from deltager.meetings.models import Registration
from deltager.citizens import services as citizens
from tests.applications.factories import STAFF, complete_input, open_round, sign_in_link
from tests.meetings.factories import make_meeting, sign_up
from tests.voting.test_migrations import _downgrade, scratch_engine  # noqa: F401 (a fixture)

BEFORE = "0008_meeting_revision"


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("applicant", "application", "sign_in_token", "registration", "budget_line")}


def test_no_email_rows_survive_the_migration_down_and_up(scratch_engine: Engine) -> None:  # noqa: F811
    migrate.upgrade(scratch_engine)
    with Session(scratch_engine) as session:
        round_ = open_round(session)
        with_email, _token = sign_in_link(session, "borger@example.dk", utcnow())
        services.create_draft(session, STAFF, with_email, round_.id, complete_input(), utcnow())
        without = citizens.create_applicant_without_email(session, utcnow())
        application = services.create_draft(session, STAFF, without, round_.id, complete_input(), utcnow())
        application.access_code_hash, application.contact_pending = "scrypt:x", "decision:rejected"
        meeting = make_meeting(session, round_)
        sign_up(session, meeting, "tilmeldt@example.dk")
        session.add(Registration(meeting_id=meeting.id, name="Uden e-mail", email=None, phone="20304050",
                                 address="Gudrunsvej 10", cancel_token_hash="f" * 64))
        session.commit()
        without_id, application_id = without.id, application.id
    before = _counts(scratch_engine)
    assert before["registration"] == 2 and before["applicant"] == 2

    _downgrade(scratch_engine, BEFORE)
    assert _counts(scratch_engine) == before
    with scratch_engine.connect() as conn:
        emails = conn.execute(text("SELECT email FROM applicant ORDER BY id")).scalars().all()
        assert emails == ["borger@example.dk", f"no-email-{without_id}@applicant.invalid"]
        assert conn.execute(text("SELECT count(*) FROM registration WHERE email IS NULL")).scalar_one() == 0

    migrate.upgrade(scratch_engine)  # with foreign keys on, as in production: nothing may cascade away
    assert _counts(scratch_engine) == before
    with Session(scratch_engine) as session:
        session.get_one(Applicant, without_id).email = None  # optional again
        session.add(Applicant(email=None, created_at=utcnow()))  # and more than one may have none
        session.commit()
        assert session.get_one(Application, application_id).applicant_id == without_id
        assert session.scalar(select(func.count(SignInToken.id))) == 1
