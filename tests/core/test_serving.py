"""Card codes never reach the logs; the production config loads."""

from __future__ import annotations

import logging
import runpy
from pathlib import Path

import pytest

from deltager.serving import MaskSecretPaths, mask_secret_paths

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ('"GET /v/AbC-123_xyz HTTP/1.1" 303', '"GET /v/… HTTP/1.1" 303'),
        ("GET /v/AbC-123_xyz?x=1", "GET /v/…?x=1"),
        ("GET /vote/ballot", "GET /vote/ballot"),
    ],
)
def test_mask(line: str, masked: str) -> None:
    assert mask_secret_paths(line) == masked


def test_filter_masks_formatted_records() -> None:
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, '%s "GET %s"', ("1.2.3.4", "/v/secret"), None)
    assert MaskSecretPaths().filter(record)
    assert record.getMessage() == '1.2.3.4 "GET /v/…"'
    assert "secret" not in record.getMessage()


def test_gunicorn_config_is_sane() -> None:
    cfg = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert cfg["workers"] >= 1 and cfg["bind"]
    assert "%(q)s" not in cfg["access_log_format"] and "%(r)s" not in cfg["access_log_format"]
    assert callable(cfg["post_worker_init"])
