"""The e-mail module: SMTP to a real server on loopback, the outbox folder, failures that stay calm."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, get_flashed_messages

from deltager import mail
from tests.fixtures.smtp import SmtpSink, free_port

ICS = ("meeting.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")


def _config(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {"MAIL_FROM": "Deltager <deltager@kommune.dk>", "SMTP_HOST": None,
            "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"), **extra}


def test_smtp_delivers_to_the_real_server(tmp_path: Path, smtp_server: SmtpSink) -> None:
    config = _config(tmp_path, **smtp_server.config())
    mail.send_mail(config, to=["a@example.dk", "b@example.dk"], subject="Hej ÆØÅ",
                   text="Tekst med æøå", html="<p>Tekst</p>", attachments=[ICS])
    [message] = smtp_server.messages
    assert smtp_server.envelopes[0] == ("deltager@kommune.dk", ["a@example.dk", "b@example.dk"])
    assert message["Subject"] == "Hej ÆØÅ"
    assert message["From"] == "Deltager <deltager@kommune.dk>"
    assert message["Message-ID"].endswith("@kommune.dk>")
    assert message["Date"]
    assert message.get_body(("plain",)).get_content().strip() == "Tekst med æøå"
    assert message.get_body(("html",)).get_content().strip() == "<p>Tekst</p>"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "meeting.ics"
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_payload(decode=True) == ICS[2]
    assert not (tmp_path / "outbox").exists()


def test_without_smtp_host_the_mail_lands_in_the_outbox(tmp_path: Path) -> None:
    config = _config(tmp_path)
    mail.send_mail(config, to="borger@example.dk", subject="Tilmelding", text="Hej")
    mail.send_mail(config, to="borger@example.dk", subject="Nummer to", text="Hej igen")
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2
    assert all(f.name[:8].isdigit() and "-" in f.name for f in files)
    assert not list((tmp_path / "outbox").glob(".*"))  # no temporary files left behind
    subjects = {m["Subject"] for m in mail.read_outbox(tmp_path / "outbox")}
    assert subjects == {"Tilmelding", "Nummer to"}


def test_header_injection_is_flattened_or_refused(tmp_path: Path) -> None:
    config = _config(tmp_path)
    mail.send_mail(config, to="x@example.dk", subject="Hej\r\nBcc: evil@example.com", text="t")
    [message] = mail.read_outbox(tmp_path / "outbox")
    assert message["Bcc"] is None
    assert message["Subject"] == "Hej Bcc: evil@example.com"
    for bad in ("x@example.dk\r\nBcc: evil@example.com", "no-at-sign", ""):
        with pytest.raises(ValueError):
            mail.send_mail(config, to=bad, subject="s", text="t")
    with pytest.raises(ValueError):
        mail.send_mail(config, to=[], subject="s", text="t")


def test_refused_connection_raises_oserror(tmp_path: Path) -> None:
    config = _config(tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TIMEOUT=2)
    with pytest.raises(OSError):
        mail.send_mail(config, to="x@example.dk", subject="s", text="t")


def test_a_silent_server_times_out(tmp_path: Path) -> None:
    with socket.socket() as listener:  # accepts the connection but never says hello
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        config = _config(tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=listener.getsockname()[1], SMTP_TIMEOUT=0.3)
        started = time.monotonic()
        with pytest.raises(OSError):
            mail.send_mail(config, to="x@example.dk", subject="s", text="t")
    assert time.monotonic() - started < 5


def test_view_helper_logs_and_flashes_instead_of_raising(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TIMEOUT=2)
    with app.test_request_context("/"):
        assert mail.send(to="x@example.dk", subject="Kvittering", text="t") is False
        [(category, text)] = get_flashed_messages(with_categories=True)
    assert category == "warning"
    assert "saved" in text or "gemt" in text
    assert "Kvittering" in caplog.text


def test_view_helper_can_stay_silent(app: Flask) -> None:
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TIMEOUT=2)
    with app.test_request_context("/"):
        assert mail.send(to="x@example.dk", subject="s", text="t", notify=False) is False
        assert get_flashed_messages() == []


def test_view_helper_uses_the_app_config(app: Flask, smtp_server: SmtpSink) -> None:
    app.config.update(smtp_server.config())
    with app.test_request_context("/"):
        assert mail.send(to="x@example.dk", subject="Via appen", text="t") is True
    assert [m["Subject"] for m in smtp_server.to("x@example.dk")] == ["Via appen"]
