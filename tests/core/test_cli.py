"""The CLI: init-db, users create, demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from deltager import create_app
from deltager.accounts.models import User
from deltager.db import get_db
from deltager.rounds.models import Round, RoundStatus
from tests.conftest import app_config


@pytest.fixture
def fresh_app(tmp_path: Path) -> Flask:
    """An app on its own empty SQLite file (the CLI commits for real)."""
    app = create_app(app_config(f"sqlite:///{tmp_path / 'cli.sqlite'}", tmp_path), instance_path=tmp_path)
    yield app
    get_db(app).engine.dispose()


def test_init_db_twice_then_create_user_from_stdin(fresh_app: Flask) -> None:
    runner = fresh_app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert runner.invoke(args=["init-db"]).exit_code == 0
    result = runner.invoke(args=["users", "create", "Anne@Kommune.dk", "--role", "admin", "--password-stdin"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    assert "anne@kommune.dk (admin)" in result.output
    with fresh_app.app_context():
        session = get_db(fresh_app).session()
        user = session.scalars(select(User)).one()
        assert user.role == "admin" and user.password_hash.startswith("scrypt:")
        session.close()


def test_create_user_refuses_a_short_password(fresh_app: Flask) -> None:
    runner = fresh_app.test_cli_runner()
    runner.invoke(args=["init-db"])
    result = runner.invoke(args=["users", "create", "a@b.dk", "--password-stdin"], input="short\n")
    assert result.exit_code != 0 and "at least 12" in result.output


def test_create_user_prompts_for_the_password(fresh_app: Flask) -> None:
    runner = fresh_app.test_cli_runner()
    runner.invoke(args=["init-db"])
    result = runner.invoke(args=["users", "create", "b@b.dk", "--role", "viewer"],
                           input="a long enough password\na long enough password\n")
    assert result.exit_code == 0, result.output


def test_demo_loads_once(fresh_app: Flask) -> None:
    runner = fresh_app.test_cli_runner()
    runner.invoke(args=["init-db"])
    first = runner.invoke(args=["demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "admin@demo.deltager.dk" in first.output
    second = runner.invoke(args=["demo", "--if-empty"])
    assert second.exit_code == 0 and "not loaded" in second.output
    with fresh_app.app_context():
        session = get_db(fresh_app).session()
        roles = set(session.scalars(select(User.role)))
        statuses = set(session.scalars(select(Round.status)))
        assert session.scalar(select(func.count(User.id))) == 4
        session.close()
    assert {r.value for r in roles} == {"admin", "caseworker", "meeting_staff", "viewer"}
    assert {RoundStatus.OPEN, RoundStatus.VOTING, RoundStatus.RUNNING, RoundStatus.DRAFT} <= statuses
