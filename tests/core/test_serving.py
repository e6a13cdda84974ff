"""Card codes never reach the logs; the production config loads."""

from __future__ import annotations

import gc
import http.client
import logging
import os
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.routing.converters import NumberConverter

from deltager import create_app, migrate
from deltager.db import after_fork, get_db, make_engine
from deltager.serving import MaskSecretPaths, SecretConverter, mask_secret_paths, secret_path_patterns, warm_up
from tests.conftest import app_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ('"GET /v/AbC-123_xyz HTTP/1.1" 303', '"GET /v/… HTTP/1.1" 303'),
        ("GET /v/AbC-123_xyz?x=1", "GET /v/…?x=1"),
        ("GET /vote/ballot", "GET /vote/ballot"),
        ('"POST /apply/sign-in/Tok3n-_x?next=/apply/mine HTTP/1.1"', '"POST /apply/sign-in/…?next=/apply/mine HTTP/1.1"'),
        ("GET /apply/sign-in", "GET /apply/sign-in"),
        ("GET /meetings/cancel/Tok3n-_x", "GET /meetings/cancel/…"),
        ("GET /staff/meetings/7/cancel", "GET /staff/meetings/7/cancel"),
    ],
)
def test_mask(app: Flask, line: str, masked: str) -> None:
    assert mask_secret_paths(line, secret_path_patterns(app.url_map)) == masked


def test_every_path_that_carries_a_token_is_masked(app: Flask) -> None:
    """A route argument that is not a number is a secret or is known not to be one: a new route
    with a token in its path fails here until it uses the ``secret`` converter."""
    not_secret = {"filename"}  # static files
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if isinstance(converter, NumberConverter) or name in not_secret:
                continue
            assert isinstance(converter, SecretConverter), f"{rule.rule}: is <{name}> a secret? mark it <secret:{name}>"
            url = rule.build({n: 1 if n != name else "S3cretValue" for n in rule.arguments}, append_unknown=False)[1]
            assert "S3cretValue" not in mask_secret_paths(f'"GET {url} HTTP/1.1"', secret_path_patterns(app.url_map))


def test_filter_masks_formatted_records(app: Flask) -> None:
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, '%s "GET %s"', ("1.2.3.4", "/v/secret"), None)
    assert MaskSecretPaths(secret_path_patterns(app.url_map)).filter(record)
    assert record.getMessage() == '1.2.3.4 "GET /v/…"'
    assert "secret" not in record.getMessage()


def test_the_access_loggers_mask_every_app_s_secret_paths(app: Flask) -> None:
    for name in ("werkzeug", "gunicorn.access"):
        filters = [f for f in logging.getLogger(name).filters if isinstance(f, MaskSecretPaths)]
        assert len(filters) == 1
        assert mask_secret_paths("/meetings/cancel/abc", filters[0].patterns) == "/meetings/cancel/…"


def test_gunicorn_config_is_sane() -> None:
    cfg = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert cfg["workers"] >= 1 and cfg["bind"]
    assert "%(q)s" not in cfg["access_log_format"] and "%(r)s" not in cfg["access_log_format"]
    assert callable(cfg["post_worker_init"])
    assert cfg["preload_app"] is True and callable(cfg["post_fork"])
    # Recycled workers start cold: at a busy meeting, recycling every few thousand requests meant
    # a restart per worker every quarter of a minute.
    assert cfg["max_requests"] >= 20_000


def test_the_master_warms_the_app_before_forking_workers(tmp_path: Path) -> None:
    app = create_app(app_config(f"sqlite:///{tmp_path / 'warm.sqlite'}", tmp_path), instance_path=tmp_path)
    templates = app.jinja_env.list_templates(extensions=["html"])
    assert len(templates) > 30 and not app.jinja_env.cache
    with app.app_context():
        catalogs = app.extensions["babel"].instance.domain_instance.cache
    cfg = runpy.run_path(str(ROOT / "gunicorn.conf.py"))

    class Server:  # what gunicorn's arbiter gives the hook
        class cfg:  # noqa: N801
            preload_app = True

        class app:  # noqa: N801
            @staticmethod
            def wsgi() -> Flask:
                return app_

    app_ = app
    gc.unfreeze()
    try:
        cfg["when_ready"](Server())
        # What the master built is out of the collector's way (and shared by the forked workers).
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # this test process goes on building and dropping apps

    assert len(app.jinja_env.cache) == len(templates)  # every template compiled, none left for a worker
    assert {locale for locale, _domain in catalogs} == {"da", "en"}


def test_warming_an_app_without_templates_or_languages_does_nothing(tmp_path: Path) -> None:
    bare = Flask("bare", root_path=str(tmp_path))  # the benchmark's ceiling app runs under the same settings
    warm_up(bare)
    gc.unfreeze()
    assert not bare.jinja_env.cache


def test_after_fork_gives_the_engine_a_pool_of_its_own(tmp_path: Path) -> None:
    app = create_app(app_config(f"sqlite:///{tmp_path / 'fork.sqlite'}", tmp_path), instance_path=tmp_path)
    engine = get_db(app).engine
    parent = engine.connect()  # a connection the master opened before forking
    before = engine.pool
    after_fork(app)
    assert engine.pool is not before
    assert parent.exec_driver_sql("SELECT 1").scalar() == 1  # left alone, for the parent
    parent.close()
    engine.dispose()
    bare = Flask("bench")
    after_fork(bare)  # an app without our database: nothing to dispose
    assert "deltager.db" not in bare.extensions


def test_forwarded_headers_count_only_from_the_proxy(tmp_path: Path) -> None:
    """Behind PROXY_COUNT=1, a client that reaches the app directly cannot choose the address its
    invalid card codes are counted under by sending its own X-Forwarded-For."""
    url = f"sqlite:///{tmp_path / 'proxy.sqlite'}"
    app = create_app(app_config(url, tmp_path, PROXY_COUNT=1, VOTING_THROTTLE_LIMIT=1), instance_path=tmp_path)
    migrate.upgrade(get_db(app).engine)
    direct = app.test_client()
    direct.environ_base["REMOTE_ADDR"] = "192.0.2.9"  # not the proxy
    assert direct.get("/v/wrong-code-1", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 404
    assert direct.get("/v/wrong-code-2", headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 429
    proxy = app.test_client()  # the reverse proxy on this host: it names the client
    assert proxy.get("/v/wrong-code-3", headers={"X-Forwarded-For": "198.51.100.3"}).status_code == 404
    assert proxy.get("/v/wrong-code-4", headers={"X-Forwarded-For": "198.51.100.4"}).status_code == 404
    assert proxy.get("/v/wrong-code-5", headers={"X-Forwarded-For": "198.51.100.4"}).status_code == 429
    get_db(app).engine.dispose()


def test_production_config_serves_with_preloaded_app_and_masks_codes(tmp_path: Path) -> None:
    """gunicorn -c gunicorn.conf.py for real: forked workers answer, the access log has no card code."""
    port, log, url = _free_port(), tmp_path / "access.log", f"sqlite:///{tmp_path / 'serve.sqlite'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    env = {**os.environ, "DELTAGER_INSTANCE_PATH": str(tmp_path), "DELTAGER_SECRET_KEY": "serving-test-secret-key",
           "DELTAGER_DATABASE_URL": url, "GUNICORN_ACCESSLOG": str(log)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        statuses = [_get(port, "/healthz", wait=i == 0) for i in range(20)]
        assert statuses == [200] * 20
        assert _get(port, "/v/SecretCardCode123") == 404  # no such card, but the path was logged
        assert _get(port, "/apply/sign-in/SecretSignInToken123") == 400  # used or expired: still logged
        assert _get(port, "/meetings/cancel/SecretCancelToken123") == 404
        headers = _headers(port, "/")
        assert "Server" not in headers, headers["Server"]  # gunicorn names itself unless told not to
        assert headers["Cache-Control"] == "no-store" and "camera=()" in headers["Permissions-Policy"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    text = log.read_text()
    assert "/healthz" in text and "/v/…" in text
    assert "/apply/sign-in/…" in text and "/meetings/cancel/…" in text
    assert "SecretCardCode123" not in text and "SecretSignInToken123" not in text and "SecretCancelToken123" not in text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _headers(port: int, path: str) -> Any:
    """The headers of a GET as they came over the wire."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.headers


def _get(port: int, path: str, *, wait: bool = False) -> int:
    deadline = time.monotonic() + (30 if wait else 5)
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path)
            status = connection.getresponse().status
            connection.close()
            return status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
