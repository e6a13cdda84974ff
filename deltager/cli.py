"""Flask CLI commands: init-db, users, demo (and later cards, pb)."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from deltager import migrate
from deltager.audit.services import Actor
from deltager.db import begin_write, get_db
from deltager.errors import DomainError
from deltager.permissions import Role

users = AppGroup("users", help="Manage staff users.")
CLI_ACTOR = Actor.system("cli")


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema to the newest migration."""
    migrate.upgrade(get_db().engine)
    click.echo("Database schema is up to date.")


@click.command("make-migration")
@click.argument("message")
@with_appcontext
def make_migration(message: str) -> None:
    """(Development) write a new migration from the models' difference to the database."""
    migrate.revision(get_db().engine, message)


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.CASEWORKER.value)
@click.option("--name", default=None, help="Full name (default: the part before @).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
def create_user(email: str, role: str, name: str | None, password_stdin: bool) -> None:
    """Create a staff user; the password is asked for, or read from standard input."""
    from deltager.accounts.services import create_user as create

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with get_db().session() as session:
        begin_write(session)
        try:
            user = create(
                session, CLI_ACTOR, email=email, name=name or email.split("@")[0],
                role=Role(role), password=password,
            )
        except DomainError as error:
            session.rollback()
            raise click.ClickException(str(error)) from error
        session.commit()
        click.echo(f"Created {user.email} ({user.role.value}).")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has users.")
@with_appcontext
def demo(if_empty: bool) -> None:
    """Fill the database with a demo municipality: staff of every role and rounds in every state."""
    from deltager.demo import DEMO_USERS, load_demo

    with get_db().session() as session:
        begin_write(session)
        created = load_demo(session, only_if_empty=if_empty)
        session.commit()
    if created:
        click.echo("Demo data loaded. Staff logins (e-mail / password):")
    else:
        click.echo("The database already has data; demo not loaded. Demo logins, if loaded earlier:")
    for email, password, role, _name in DEMO_USERS:
        click.echo(f"  {role.value:<14} {email} / {password}")


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    for command in (init_db, make_migration, demo, users):
        app.cli.add_command(command)
    from deltager.voting.cli import init_app as init_voting_cli

    init_voting_cli(app)
