"""Public pages: front page, a round's page, the language switch and /healthz."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from werkzeug.wrappers import Response

from deltager.applications import services as applications
from deltager.db import get_session, utcnow
from deltager.i18n import LANG_COOKIE, select_locale
from deltager.meetings import services as meetings
from deltager.public.statement import accessibility_figures, contact_address
from deltager.rounds import services as rounds
from deltager.voting import services as voting
from deltager.web import public, safe_next

bp = Blueprint("public", __name__)


@bp.get("/")
@public
def index() -> ResponseReturnValue:
    """Open and past rounds, in plain language."""
    current, past = rounds.list_public_rounds(get_session())
    return render_template("public/index.html", current=current, past=past)


@bp.get("/rounds/<int:round_id>")
@public
def round_page(round_id: int) -> ResponseReturnValue:
    """A round as citizens see it: theme, money, dates; applying or its ballot, its meetings, its result."""
    session, now = get_session(), utcnow()
    round_ = rounds.get_public_round(session, round_id)
    return render_template(
        "public/round.html", round=round_,
        accepts_applications=round_.accepts_applications(now),
        ballot_is_public=applications.ballot_is_public(round_),
        meetings=meetings.round_page_meetings(session, round_, now),
        published=voting.published_result(session, round_.id, select_locale()),
    )


@bp.get("/tilgaengelighed")
@public
def accessibility() -> ResponseReturnValue:
    """The accessibility statement: what was tested and found, what falls short, whom to tell."""
    return render_template("public/accessibility.html", figures=accessibility_figures(),
                           contact=contact_address(current_app.config))


@bp.post("/language")
@public
def language() -> ResponseReturnValue:
    """Switch between Danish and English (a cookie; works without JavaScript)."""
    lang = request.form.get("lang", "")
    response = redirect(safe_next(request.form.get("next"), url_for("public.index")), code=303)
    if lang in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


@bp.get("/healthz")
@public
def healthz() -> ResponseReturnValue:
    """200 "ok" when the database answers, 503 otherwise (for the load balancer)."""
    try:
        get_session().execute(text("SELECT 1"))
    except Exception:  # any database failure means: take this host out of rotation
        current_app.logger.exception("health check failed")
        return Response("database unavailable\n", status=503, mimetype="text/plain")
    return Response("ok\n", mimetype="text/plain", headers={"Cache-Control": "no-store"})
