"""Configuration: defaults, instance/config.py, DELTAGER_* variables, the generated secret key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from deltager import config


def test_defaults_use_sqlite_in_instance_and_generate_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("DELTAGER_"):
            monkeypatch.delenv(name)
    cfg = config.load(tmp_path)
    assert cfg["DATABASE_URL"] == f"sqlite:///{tmp_path / 'deltager.sqlite'}"
    key_file = tmp_path / "secret_key"
    assert key_file.exists() and len(cfg["SECRET_KEY"]) >= 40
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert config.load(tmp_path)["SECRET_KEY"] == cfg["SECRET_KEY"], "the key must survive a restart"
    assert cfg["MAIL_OUTBOX_DIR"] == str(tmp_path / "outbox")
    assert cfg["SESSION_COOKIE_SECURE"] is False
    assert cfg["MAX_CONTENT_LENGTH"] > 0


def test_instance_file_then_environment_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.py").write_text(
        'DATABASE_URL = "postgresql+psycopg://db/deltager"\n'
        'SECRET_KEY = "from-file"\nSMTP_HOST = "smtp.kommune.dk"\nBASE_URL = "https://file.example"\n'
    )
    monkeypatch.setenv("DELTAGER_SECRET_KEY", "from-env")
    monkeypatch.setenv("DELTAGER_SMTP_PORT", "587")
    monkeypatch.setenv("DELTAGER_SMTP_STARTTLS", "yes")
    monkeypatch.setenv("DELTAGER_BASE_URL", "https://deltager.kommune.dk")
    cfg = config.load(tmp_path)
    assert cfg["DATABASE_URL"] == "postgresql+psycopg://db/deltager"
    assert cfg["SECRET_KEY"] == "from-env"
    assert cfg["SMTP_HOST"] == "smtp.kommune.dk"
    assert cfg["SMTP_PORT"] == 587
    assert cfg["SMTP_STARTTLS"] is True
    assert cfg["BASE_URL"] == "https://deltager.kommune.dk"
    assert cfg["SESSION_COOKIE_SECURE"] is True
    assert not (tmp_path / "secret_key").exists(), "no key file when a key is configured"


def test_nothing_secret_is_committed() -> None:
    root = Path(__file__).resolve().parents[2]
    ignored = (root / ".gitignore").read_text()
    assert "/instance/*" in ignored and "!/instance/README.md" in ignored
