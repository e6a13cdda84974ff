"""Deltager: a municipality's participatory budget, from call for applications to the last receipt."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from deltager import config as config_module
from deltager import db, i18n, security, uploads
from deltager.serving import ForwardedOnlyFromProxy, SecretConverter, install_log_masking

ROOT = Path(__file__).resolve().parent.parent
csrf = CSRFProtect()


def create_app(test_config: dict[str, Any] | None = None, instance_path: Path | None = None) -> Flask:
    """Build the app: configuration, database, sign-in, CSRF, languages, blueprints, CLI.

    The instance folder is ``instance/`` beside the package unless DELTAGER_INSTANCE_PATH
    (or the ``instance_path`` argument) names another.
    """
    instance_path = instance_path or Path(os.environ.get("DELTAGER_INSTANCE_PATH", ROOT / "instance"))
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(config_module.load(instance_path, test_config))
    if app.config["PROXY_COUNT"]:
        n = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ForwardedOnlyFromProxy(  # type: ignore[method-assign]
            ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n),
            app.config["PROXY_ADDRESSES"].replace(",", " ").split(),
        )

    app.url_map.converters["secret"] = SecretConverter
    db.init_app(app)
    csrf.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    _init_login(app)
    _register_blueprints(app)
    install_log_masking(app.url_map, "werkzeug", "gunicorn.access")
    # Outermost: a looping upload is refused before the proxy fix, the session and the database.
    app.wsgi_app = uploads.BusyGate(app, app.wsgi_app)  # type: ignore[method-assign]

    from deltager import cli

    cli.init_app(app)
    from deltager.forms import error_texts
    from deltager.permissions import Permission

    app.jinja_env.globals["Permission"] = Permission
    app.jinja_env.filters["error_texts"] = error_texts
    return app


def _init_login(app: Flask) -> None:
    from flask_babel import lazy_gettext

    from deltager.accounts.services import load_session_user

    manager = LoginManager(app)
    manager.login_view = "accounts.login"
    manager.login_message = lazy_gettext("Please sign in to see this page.")
    manager.login_message_category = "info"
    # No "remember me": a staff session ends with the browser or after PERMANENT_SESSION_LIFETIME.
    manager.session_protection = "basic"

    @manager.user_loader
    def _load(session_id: str) -> Any:
        return load_session_user(db.get_session(), session_id)


def _register_blueprints(app: Flask) -> None:
    from deltager.accounts.views import bp as accounts_bp
    from deltager.applications import labels as application_labels
    from deltager.applications.views import bp as applications_bp
    from deltager.audit.views import bp as audit_bp
    from deltager.citizens.views import bp as citizens_bp
    from deltager.meetings.views import bp as meetings_bp
    from deltager.meetings import labels as meeting_labels
    from deltager.public.views import bp as public_bp
    from deltager.rounds import labels as round_labels
    from deltager.rounds.views import bp as rounds_bp

    for bp in (public_bp, accounts_bp, rounds_bp, audit_bp):
        app.register_blueprint(bp)
    app.register_blueprint(citizens_bp)
    app.register_blueprint(meetings_bp)
    app.register_blueprint(applications_bp)
    application_labels.init_app(app)
    meeting_labels.init_app(app)
    round_labels.init_app(app)
    from deltager.voting import labels as voting_labels
    from deltager.voting.views import bp as voting_bp

    app.register_blueprint(voting_bp)
    voting_labels.init_app(app)
    from deltager.grants import labels as grant_labels
    from deltager.grants import words as grant_words
    from deltager.grants.views import bp as grants_bp

    app.register_blueprint(grants_bp)
    grant_labels.init_app(app)
    grant_words.init_app(app)
