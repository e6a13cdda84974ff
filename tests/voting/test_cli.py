"""The voting CLI: issuing cards and allocating a .pb file."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deltager.voting import services
from deltager.voting.models import BallotCard
from tests.pdf.poppler import pdf_text
from tests.voting.factories import make_vote_meeting

PB = (
    "META\nkey;value\ndescription;test\ncountry;Denmark\nunit;x\ninstance;x\nnum_projects;3\nnum_votes;3\n"
    "budget;100\nvote_type;approval\nrule;greedy\n"
    "PROJECTS\nproject_id;cost;name\n1;60;Alfa\n2;50;Beta\n3;40;Gamma\n"
    "VOTES\nvoter_id;vote\n1;1,2\n2;1\n3;2,3\n"
)


def test_cards_issue_prints_csv_and_writes_files(app: Flask, session: Session, tmp_path: Path) -> None:
    setup = make_vote_meeting(session)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["cards", "issue", str(setup.meeting.id), "--count", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "serial,url" and len(lines) == 4
    serial, url = lines[1].split(",")
    assert serial == "0001" and url.startswith("http://localhost/v/")
    card = services.find_card(session, url.rsplit("/", 1)[1])
    assert card is not None and card.serial == "0001"
    csv_file, pdf_file = tmp_path / "cards.csv", tmp_path / "cards.pdf"
    result = runner.invoke(args=["cards", "issue", str(setup.meeting.id), "--count", "2",
                                 "--csv", str(csv_file), "--pdf", str(pdf_file)])
    assert result.exit_code == 0, result.output
    assert csv_file.read_text().splitlines()[1].startswith("0004,")
    assert pdf_file.read_bytes().startswith(b"%PDF")
    count = session.scalar(select(func.count()).select_from(BallotCard).where(BallotCard.meeting_id == setup.meeting.id))
    assert count == 5


def test_cards_issue_prints_the_meeting_time_as_in_copenhagen(app: Flask, session: Session, tmp_path: Path) -> None:
    setup = make_vote_meeting(session)  # starts 2026-05-20 16:00 UTC: 18:00 in Copenhagen (summer time)
    pdf_file = tmp_path / "cards.pdf"
    result = app.test_cli_runner().invoke(
        args=["cards", "issue", str(setup.meeting.id), "--count", "1", "--pdf", str(pdf_file)])
    assert result.exit_code == 0, result.output
    text = pdf_text(pdf_file.read_bytes(), tmp_path)
    assert "20. maj 2026 kl. 18:00" in text and "UTC" not in text


def test_cards_issue_refuses_an_unknown_meeting(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["cards", "issue", "999999", "--count", "2"])
    assert result.exit_code != 0 and "does not exist" in result.output


def test_pb_allocate_prints_selected_ids(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "x.pb"
    path.write_text(PB)
    runner = app.test_cli_runner()
    greedy = runner.invoke(args=["pb", "allocate", str(path), "--rule", "greedy"])
    assert greedy.exit_code == 0, greedy.output
    assert greedy.output.splitlines() == ["1", "3"]  # 1 and 2 have 2 votes; 1 wins the id tie, 2 no longer fits
    mes = runner.invoke(args=["pb", "allocate", str(path), "--rule", "mes"])
    assert mes.exit_code == 0 and mes.output.splitlines()
    broken = tmp_path / "broken.pb"
    broken.write_text("nonsense")
    assert runner.invoke(args=["pb", "allocate", str(broken)]).exit_code != 0
