"""The unit of work: one commit, a refusal rolled back and shown on the form, mail only after the commit."""

from __future__ import annotations

import pytest
from flask import Flask, get_flashed_messages
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from wtforms import Form, StringField

from deltager.accounts.models import User
from deltager.db import get_session
from deltager.errors import NotAllowed, ValidationFailed
from deltager.permissions import Role
from deltager.work import unit_of_work
from tests.conftest import password_hash


class NameForm(Form):
    name = StringField("Name")


def _add_user(session: Session, email: str) -> None:
    session.add(User(email=email, name="A", role=Role.VIEWER, password_hash=password_hash()))


def _users(app: Flask) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(User)) or 0


def test_the_work_commits_once_and_then_sends(file_app: Flask) -> None:
    sent: list[str] = []
    with file_app.test_request_context("/", method="POST"):
        with unit_of_work() as work:
            _add_user(work.session, "a@example.dk")
            work.after_commit(sent.append, "mail")
            assert sent == [], "nothing is sent before the commit"
        assert work.done and work.error is None
        assert sent == ["mail"] and work.results == [None]
        assert not work.session.in_transaction()
    assert _users(file_app) == 1


def test_a_domain_error_rolls_back_shows_on_the_field_and_sends_nothing(file_app: Flask) -> None:
    sent: list[str] = []
    with file_app.test_request_context("/", method="POST"):
        form = NameForm()
        with unit_of_work(form) as work:
            _add_user(work.session, "b@example.dk")
            work.after_commit(sent.append, "mail")
            work.session.flush()
            raise ValidationFailed("The name is taken.", field="name")
        assert not work.done and isinstance(work.error, ValidationFailed)
        assert form.name.errors == ["The name is taken."]
        assert sent == []
    assert _users(file_app) == 0


def test_a_refusal_without_a_field_is_flashed(file_app: Flask) -> None:
    with file_app.test_request_context("/", method="POST"):
        with unit_of_work() as work:
            raise NotAllowed("Not now.")
        assert not work.done
        assert get_flashed_messages(with_categories=True) == [("error", "Not now.")]


def test_a_bug_is_not_swallowed(file_app: Flask) -> None:
    with file_app.test_request_context("/", method="POST"), pytest.raises(ZeroDivisionError):
        with unit_of_work():
            1 / 0  # noqa: B018


def test_a_view_that_shows_the_refusal_itself_gets_no_flash(file_app: Flask) -> None:
    with file_app.test_request_context("/", method="POST"):
        with unit_of_work(show=False) as work:
            _add_user(work.session, "c@example.dk")
            work.session.flush()
            raise NotAllowed("Not now.")
        assert not work.done and isinstance(work.error, NotAllowed)
        assert get_flashed_messages() == []
    assert _users(file_app) == 0
