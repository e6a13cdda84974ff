"""CLI: ``flask cards issue MEETING_ID --count N [--csv FILE] [--pdf FILE]`` and ``flask pb allocate FILE.pb``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from deltager.audit.services import Actor
from deltager.db import get_db, utcnow
from deltager.errors import DomainError

cards = AppGroup("cards", help="Ballot cards for voting meetings.")
pb = AppGroup("pb", help="Pabulib .pb files.")
CLI_ACTOR = Actor.system("cli")


@cards.command("issue")
@click.argument("meeting_id", type=int)
@click.option("--count", type=click.IntRange(1), required=True, help="How many cards to issue.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path), help="Write serial,url here.")
@click.option("--pdf", "pdf_file", type=click.Path(dir_okay=False, path_type=Path), help="Write printable cards here.")
def issue(meeting_id: int, count: int, csv_file: Path | None, pdf_file: Path | None) -> None:
    """Issue COUNT new ballot cards; without --csv/--pdf the CSV goes to standard output.

    The codes exist only in what this command writes: keep the files safe.
    """
    from deltager.i18n import format_local_datetime
    from deltager.voting import services
    from deltager.voting.card_files import card_file

    base_url = current_app.config["BASE_URL"]

    def make_files(cards: list[services.IssuedCard]) -> tuple[str, bytes | None]:
        text = card_file(cards, "csv", base_url=base_url, title=title, when=when)
        return text, None if pdf_file is None else card_file(cards, "pdf", base_url=base_url, title=title, when=when)

    with get_db().session() as session:
        try:
            meeting = services.get_vote_meeting(session, meeting_id)
            title, when = meeting.title, format_local_datetime(meeting.starts_at)
            issued, (text, pdf) = services.issue_cards_with_file(
                session, CLI_ACTOR, meeting_id, count, make_files, utcnow)
        except DomainError as error:
            session.rollback()
            raise click.ClickException(str(error)) from error
    # Written once the cards are stored: a file never holds codes that do not work.
    if pdf_file is not None and pdf is not None:
        pdf_file.write_bytes(pdf)
    if csv_file is not None:
        csv_file.write_text(text, encoding="utf-8")
    if csv_file is None and pdf_file is None:
        click.echo(text, nl=False)
    else:
        click.echo(f"Issued {count} cards ({issued[0].serial}–{issued[-1].serial}).", err=True)


@pb.command("allocate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rule", type=click.Choice(["greedy", "mes"]), default="greedy", show_default=True)
def allocate(file: Path, rule: str) -> None:
    """Print the project ids RULE selects for a .pb file, one per line, in selection order."""
    from deltager import pabulib

    try:
        selected = pabulib.allocate_file(file, rule)  # type: ignore[arg-type]
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    for project_id in selected:
        click.echo(project_id)


def init_app(app: Flask) -> None:
    """Register the voting command groups."""
    app.cli.add_command(cards)
    app.cli.add_command(pb)
