"""The voting meeting on the web: the phone ballot, the big screen, and the staff pages.

Public URLs (no account):
  GET  /v/<code>                 scan a card: sets the card cookie, 303 to /ballot (the code leaves the URL)
  GET  /ballot                   the ballot for the card in the cookie
  POST /ballot/confirm           the confirmation step (choice=… in the body; reads only)
  POST /ballot/change            back to the ballot with the choices still ticked (reads only)
  POST /ballot                   cast (choice=<application id> …, csrf_token) → 303 /ballot/done
  GET  /ballot/done              "Tak for din stemme"
  GET  /m/<meeting_id>/screen    the big screen
  GET  /m/<meeting_id>/turnout.json   {"state", "cards", "ballots"}; ETag, Cache-Control: max-age=2

No URL ever carries a choice: a URL lands in the browser's history (a borrowed phone) and in
proxy logs, so the choices travel in POST bodies only, and no route reads them from a query string.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from deltager import road
from deltager.applications.emails import tell_result
from deltager.audit.services import Actor
from deltager.confirmation import Confirmation, Consequence, confirmation_page
from deltager.db import get_session, reads_first, utcnow
from deltager.errors import DomainError, NotAllowed, ValidationFailed
from deltager.forms import ConfirmForm
from deltager.i18n import format_local_datetime, select_locale
from deltager.meetings.models import Meeting
from deltager.permissions import Permission
from deltager.voting import comparison, secrecy, services
from deltager.voting.card_files import MIMETYPES, CardFormat, card_file, card_file_name
from deltager.voting.consequences import closing_consequences, opening_consequences, renewal_consequences
from deltager.voting.forms import CompareForm, DoorCountForm, IssueCardsForm, SerialForm, SettingsForm
from deltager.voting.labels import RULE_LABELS, TIE_BREAK_LABELS, vote_rule_label, vote_tie_break_label
from deltager.voting.models import AllocationRule, BallotChannel, TieBreak, VoteState
from deltager.web import client_ip, download, public, requires, see_other, show_error, staff_actor, translate_error
from deltager.work import unit_of_work

bp = Blueprint("voting", __name__)

CARD_COOKIE = "deltager_card"
CARD_COOKIE_MAX_AGE = 12 * 60 * 60
THROTTLE_LIMIT = 20  # invalid codes per client IP in the current and the previous window
THROTTLE_WINDOW_SECONDS = 5 * 60


# --------------------------------------------------------------------------- the card cookie


def _serializer() -> URLSafeSerializer:
    return _card_serializer(current_app.config["SECRET_KEY"])


@functools.lru_cache(maxsize=4)
def _card_serializer(secret_key: str) -> URLSafeSerializer:
    """One per secret key (an app has one): built once, not on each of a vote's three requests."""
    return URLSafeSerializer(secret_key, salt="deltager.ballot-card")


def _card_id() -> int | None:
    """The card id in the visitor's signed cookie, if any."""
    raw = request.cookies.get(CARD_COOKIE)
    if not raw:
        return None
    try:
        value = _serializer().loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None


@bp.get("/v/<secret:code>")
@public
def scan(code: str) -> ResponseReturnValue:
    """A scanned card: remember it in a cookie and redirect at once, so the code leaves the URL."""
    session = get_session()
    now = utcnow()
    window = current_app.config.get("VOTING_THROTTLE_WINDOW_SECONDS", THROTTLE_WINDOW_SECONDS)
    card_id = services.scan_card(
        session, code, client_ip(), now, limit=current_app.config.get("VOTING_THROTTLE_LIMIT", THROTTLE_LIMIT),
        window_seconds=window,
    )
    if card_id is None:
        with unit_of_work() as work:  # (a GET: its read transaction becomes a write one here)
            services.register_card_failure(work.session, client_ip(), now, window_seconds=window)
        return render_template("voting/card_invalid.html"), 404
    response = see_other("voting.ballot")
    response.set_cookie(
        CARD_COOKIE, _serializer().dumps(card_id), max_age=CARD_COOKIE_MAX_AGE, httponly=True, samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure,
    )
    return response


# --------------------------------------------------------------------------- the phone ballot


def _current_card() -> services.CardBallot | None:
    card_id = _card_id()
    return None if card_id is None else services.card_ballot(get_session(), card_id)


def _refusal(view: services.CardView) -> DomainError | None:
    """Why this card cannot vote now, or None if it can."""
    try:
        services.refuse_card(view.status, view.state)
    except DomainError as error:
        return error
    return None


def _choices(values: list[str]) -> list[int] | None:
    """The ticked application ids; None if something that is not a number was sent."""
    try:
        return [int(v) for v in values]
    except ValueError:
        return None


def _render_ballot(card: services.CardBallot, chosen: list[int], error: str | None = None, status: int = 200) -> ResponseReturnValue:
    view = card.view
    projects = services.order_for_card(card.projects, view.code_hash)
    ticked, language, root = set(chosen), select_locale(), request.script_root
    items = [_render_ballot_item(p, p.id in ticked, language, root) for p in projects]
    return render_template("voting/ballot.html", card=view, items=items, error=error), status


#: How often a phone waiting for the vote to open asks again (a meta refresh: no JavaScript needed).
WAITING_REFRESH_SECONDS = 20


def _card_status_page(refusal: DomainError, status: int = 200) -> ResponseReturnValue:
    """Why the card cannot vote. A used card also tells whoever voted with it that the vote counts:
    a voter whose phone lost the answer on the hall's Wi-Fi and who taps again lands here."""
    return render_template("voting/card_status.html", message=translate_error(refusal),
                           used=isinstance(refusal, services.CardUsed),
                           waiting=isinstance(refusal, services.VoteNotOpenYet),
                           refresh_seconds=WAITING_REFRESH_SECONDS), status


def _usable_card() -> services.CardBallot | ResponseReturnValue:
    """The card in the cookie (and the ballot) if it may vote now; otherwise the page that says why not."""
    card = _current_card()
    if card is None:
        return render_template("voting/no_card.html")
    refusal = _refusal(card.view)
    return _card_status_page(refusal) if refusal else card


@bp.get("/ballot")
@public
def ballot() -> ResponseReturnValue:
    """The ballot: every project on it, in this card's own order; tick between min and max."""
    card = _usable_card()
    if not isinstance(card, services.CardBallot):
        return card
    return _render_ballot(card, [])


@bp.get("/ballot/confirm")
@public
def confirm_address() -> ResponseReturnValue:
    """The confirmation step's address opened directly (a bookmark, an old link): back to the ballot,
    whatever its query string holds."""
    return see_other("voting.ballot")


@bp.post("/ballot/confirm")
@public
@reads_first  # writes nothing: no write lock for a page the whole hall asks for
def confirm() -> ResponseReturnValue:
    """Show the chosen projects before the vote is cast (reads only; the cast is its own POST)."""
    card = _usable_card()
    if not isinstance(card, services.CardBallot):
        return card
    view, projects = card.view, card.projects
    chosen = _choices(request.form.getlist("choice"))
    try:
        if chosen is None:
            raise ValidationFailed(services.N_("One of the chosen projects is not on the ballot."))
        services.check_choices(chosen, {p.id for p in projects}, view.min_choices, view.max_choices)
    except ValidationFailed as error:
        return _render_ballot(card, chosen or [], translate_error(error), 400)
    by_id = {p.id: p for p in projects}
    return render_template(
        "voting/confirm.html", card=view, chosen=[by_id[c] for c in chosen], form=ConfirmForm()
    )


@bp.post("/ballot/change")
@public
@reads_first
def change() -> ResponseReturnValue:
    """Back from the confirmation to the ballot, the choices still ticked (they come in the body)."""
    card = _usable_card()
    if not isinstance(card, services.CardBallot):
        return card
    return _render_ballot(card, _choices(request.form.getlist("choice")) or [])


@bp.post("/ballot")
@public
def cast() -> ResponseReturnValue:
    """Cast the ballot: one short write transaction (see services.cast_ballot)."""
    card_id = _card_id()
    if card_id is None:
        return render_template("voting/no_card.html"), 400
    # The CSRF token was checked before this view ran: CSRFProtect guards every POST of the app.
    chosen = _choices(request.form.getlist("choice"))
    # The unit of work adds no round trip to the vote (tests/voting/test_round_trips.py): the
    # POST's write transaction is already begun, so it only commits, or rolls back a refusal.
    with unit_of_work(show=False) as work:  # the ballot shows a refusal itself, not as a flash
        services.cast_ballot(work.session, card_id, chosen if chosen is not None else [-1], BallotChannel.PHONE)
    if work.error is not None:
        return _cast_refused(work.error, chosen or [])
    return see_other("voting.done")


def _cast_refused(error: DomainError, chosen: list[int]) -> ResponseReturnValue:
    """The ballot again with why the choices do not count, or the page that says why the card cannot vote."""
    if isinstance(error, NotAllowed):
        return _card_status_page(error, 409)
    card = _current_card()
    if card is None or not isinstance(error, ValidationFailed):
        abort(404)
    return _render_ballot(card, chosen, translate_error(error), 400)


@bp.get("/ballot/done")
@public
def done() -> ResponseReturnValue:
    """Thank you."""
    return render_template("voting/done.html")


# --------------------------------------------------------------------------- the big screen


def _trace(allocation: Any) -> list[str]:
    return allocation.trace(select_locale())


@bp.get("/m/<int:meeting_id>/screen")
@public
def screen(meeting_id: int) -> ResponseReturnValue:
    """The big screen: how to vote, cards handed out beside ballots cast; after closing the result."""
    session = get_session()
    meeting = services.get_vote_meeting(session, meeting_id)
    settings = services.get_settings(session, meeting_id)
    turnout = services.turnout(session, meeting_id)
    allocation = services.get_allocation(session, meeting_id) if turnout.state is VoteState.CLOSED else None
    return render_template(
        "voting/screen.html", meeting=meeting, settings=settings, state=turnout.state, turnout=turnout,
        allocation=allocation, lines=services.result_lines(session, allocation) if allocation else [],
        trace=_trace(allocation) if allocation else [],
    )


@bp.get("/m/<int:meeting_id>/turnout.json")
@public
def turnout(meeting_id: int) -> ResponseReturnValue:
    """Turnout only, for the screen to poll: cheap, cacheable for two seconds, with an ETag."""
    services.get_vote_meeting(get_session(), meeting_id)  # another kind of meeting has no turnout
    state, cards, ballots = services.turnout(get_session(), meeting_id)
    body = json.dumps({"state": state.value, "cards": cards, "ballots": ballots}, separators=(",", ":"))
    response = Response(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:16])
    response.headers["Cache-Control"] = "public, max-age=2"
    return response.make_conditional(request)


# --------------------------------------------------------------------------- staff: overview


def _meeting_and_settings(meeting_id: int) -> tuple[Any, Any]:
    session = get_session()
    return services.get_vote_meeting(session, meeting_id), services.get_settings(session, meeting_id)


@bp.get("/staff/voting/")
@requires(Permission.VOTING_RESULTS)
def index() -> ResponseReturnValue:
    """Every voting meeting."""
    session = get_session()
    return render_template("voting/index.html", meetings=services.list_vote_meetings(session))


@bp.get("/staff/voting/<int:meeting_id>")
@requires(Permission.VOTING_RESULTS)
def meeting(meeting_id: int) -> ResponseReturnValue:
    """One voting meeting: rules, stands, cards, reconciliation, controls; the result once closed."""
    session = get_session()
    meeting_, settings = _meeting_and_settings(meeting_id)
    allocation = services.get_allocation(session, meeting_id)
    return render_template(
        "voting/meeting.html", meeting=meeting_, settings=settings,
        projects=services.ballot_projects(session, meeting_.round_id),
        rec=services.reconciliation(session, meeting_id), allocation=allocation,
        lines=services.result_lines(session, allocation) if allocation else [],
        trace=_trace(allocation) if allocation else [],
        door_form=DoorCountForm(door_count=settings.door_count),
        rule_labels=RULE_LABELS, tie_break_labels=TIE_BREAK_LABELS,
    )


def _act(meeting_id: int, action: Callable[[Session, Actor, int], Any], message: str) -> ResponseReturnValue:
    """Run a bare-button action (CSRF only) in a unit of work, flash, back to the meeting."""
    if ConfirmForm().validate_on_submit():
        with unit_of_work() as work:
            action(work.session, staff_actor(), meeting_id)
        if work.done:
            flash(message, "success")
    return see_other("voting.meeting", meeting_id=meeting_id)


@bp.route("/staff/voting/<int:meeting_id>/open", methods=["GET", "POST"])
@requires(Permission.VOTING_OPEN_CLOSE)
def open_vote(meeting_id: int) -> ResponseReturnValue:
    """Open the vote (after a confirmation page that names what it fixes)."""
    meeting_ = services.get_vote_meeting(get_session(), meeting_id)
    if request.method == "POST":
        return _act(meeting_id, lambda s, a, m: road.open_vote(s, a, m, utcnow()), _("The vote is open."))
    return confirmation_page(_vote_confirmation(
        meeting_, "voting.open_vote", _("Open the vote"),
        opening_consequences(get_session(), meeting_id, utcnow())))


@bp.route("/staff/voting/<int:meeting_id>/close", methods=["GET", "POST"])
@requires(Permission.VOTING_OPEN_CLOSE)
def close_vote(meeting_id: int) -> ResponseReturnValue:
    """Close the vote (after a confirmation page): allocate, freeze the result, tell the applicants."""
    meeting_ = services.get_vote_meeting(get_session(), meeting_id)
    if request.method == "GET":
        return confirmation_page(_vote_confirmation(
            meeting_, "voting.close_vote", _("Close the vote and allocate"),
            closing_consequences(get_session(), meeting_id)))
    if ConfirmForm().validate_on_submit():
        with unit_of_work() as work:
            allocation = road.close_vote(work.session, staff_actor(), meeting_id, utcnow())
            owed = services.tell_results(work.session, allocation, lambda application, line: work.after_commit(
                tell_result, application, funded=line.selected, votes=line.votes, granted_ore=line.granted_ore))
        if work.done:
            _after_closing(owed + work.results.count(False))
    return see_other("voting.meeting", meeting_id=meeting_id)


def _after_closing(untold: int) -> None:
    """Say so, ask staff to phone those not e-mailed, and compact the ballots' pages (secrecy)."""
    flash(_("The vote is closed and the result is frozen. The applicants are told by e-mail."), "success")
    if untold:
        flash(ngettext("%(num)d applicant could not be e-mailed the result. Tell them by phone or letter.",
                       "%(num)d applicants could not be e-mailed the result. Tell them by phone or letter.",
                       untold), "warning")
    get_session().rollback()  # end the read of the result e-mails: an open read would block VACUUM
    secrecy.compact(get_session())  # after the commit: VACUUM cannot run inside a transaction


def _vote_confirmation(meeting_: Meeting, endpoint: str, button: str, consequences: list[Consequence]) -> Confirmation:
    return Confirmation(
        title=button, lead=_("Voting meeting: %(title)s, %(when)s.", title=meeting_.title,
                             when=format_local_datetime(meeting_.starts_at)),
        consequences=consequences, action=url_for(endpoint, meeting_id=meeting_.id), button=button,
        back=url_for("voting.meeting", meeting_id=meeting_.id), breadcrumb=meeting_.title,
    )


@bp.post("/staff/voting/<int:meeting_id>/door")
@requires(Permission.VOTING_RUN)
def door_count(meeting_id: int) -> ResponseReturnValue:
    """Record the head count at the door."""
    services.get_vote_meeting(get_session(), meeting_id)
    form = DoorCountForm()
    if not form.validate_on_submit():
        flash(_("Enter the number of people as a whole number."), "error")
        return see_other("voting.meeting", meeting_id=meeting_id)
    count = form.door_count.data or 0
    return _act(meeting_id, lambda s, a, m: services.set_door_count(s, a, m, count), _("The head count is saved."))


# --------------------------------------------------------------------------- staff: preparing


@bp.route("/staff/voting/<int:meeting_id>/settings", methods=["GET", "POST"])
@requires(Permission.VOTING_PREPARE)
def settings(meeting_id: int) -> ResponseReturnValue:
    """Set the ballot rules: how many projects per ballot, allocation rule, tie-break."""
    meeting_, current = _meeting_and_settings(meeting_id)
    form = SettingsForm() if request.method == "POST" else SettingsForm(
        min_choices=current.min_choices, max_choices=current.max_choices,
        rule=current.rule.value, tie_break=current.tie_break.value,
    )
    if form.validate_on_submit():
        data = services.SettingsInput(form.min_choices.data or 0, form.max_choices.data or 0,
                                      AllocationRule(form.rule.data), TieBreak(form.tie_break.data))
        with unit_of_work(form) as work:
            services.update_settings(work.session, staff_actor(), meeting_id, data)
        if work.done:
            flash(_("The ballot rules are saved."), "success")
            return see_other("voting.meeting", meeting_id=meeting_id)
    status = 400 if form.errors else 200
    return render_template("voting/settings.html", meeting=meeting_, settings=current, form=form), status


@bp.route("/staff/voting/<int:meeting_id>/stands", methods=["GET", "POST"])
@requires(Permission.VOTING_PREPARE)
def stands(meeting_id: int) -> ResponseReturnValue:
    """Stand numbers: edit them by hand (the form posts stand-<application id> fields)."""
    meeting_, settings_ = _meeting_and_settings(meeting_id)
    projects = services.ballot_projects(get_session(), meeting_.round_id)
    typed = {p.id: request.form.get(f"stand-{p.id}", "").strip() for p in projects} if request.method == "POST" else {}
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        numbers = _stand_numbers(typed)
        if numbers is not None:
            with unit_of_work() as work:
                services.set_stand_numbers(work.session, staff_actor(), meeting_id, numbers)
            if work.done:
                flash(_("The stand numbers are saved."), "success")
                return see_other("voting.meeting", meeting_id=meeting_id)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "voting/stands.html", meeting=meeting_, settings=settings_, projects=projects, typed=typed,
        confirm=ConfirmForm(),
    ), status


def _stand_numbers(typed: dict[int, str]) -> dict[int, int | None] | None:
    """The typed stand numbers (empty: none); None, and a message, if one is not a whole number."""
    try:
        return {pid: int(text) if text else None for pid, text in typed.items()}
    except ValueError:
        flash(_("A stand number must be a whole number from 1 to 9999."), "error")
        return None


@bp.post("/staff/voting/<int:meeting_id>/stands/auto")
@requires(Permission.VOTING_PREPARE)
def stands_auto(meeting_id: int) -> ResponseReturnValue:
    """Give the projects stands 1..n in application-number order."""
    services.get_vote_meeting(get_session(), meeting_id)
    return _act(meeting_id, services.assign_stand_numbers, _("The projects have stands 1, 2, 3 … in application order."))


def _cards_file(meeting_id: int, title: str, when: str, cards: list[services.IssuedCard], fmt: CardFormat) -> Response:
    """The download of a batch: PDF sheets to cut, or a CSV of serial and URL for a print shop."""
    data = card_file(cards, fmt, base_url=current_app.config["BASE_URL"], title=title, when=when)
    return download(data, card_file_name(meeting_id, cards, fmt), MIMETYPES[fmt])


def _issue_and_download(meeting_: Meeting, count: int, fmt: CardFormat) -> Response:
    """Issue the batch and send its file, made with no transaction open (see issue_cards_with_file)."""
    # Plain values: the ORM objects expire when the transaction ends, and reloading one would
    # open a read transaction on which the write transaction could not be started.
    meeting_id, title, when = meeting_.id, meeting_.title, format_local_datetime(meeting_.starts_at)
    _, response = services.issue_cards_with_file(
        get_session(), staff_actor(), meeting_id, count,
        lambda cards: _cards_file(meeting_id, title, when, cards, fmt), utcnow,
    )
    return response


@bp.route("/staff/voting/<int:meeting_id>/cards", methods=["GET", "POST"])
@requires(Permission.VOTING_CARDS)
def cards(meeting_id: int) -> ResponseReturnValue:
    """Issue N cards and download them at once (PDF or CSV): the codes are never shown again."""
    meeting_, settings_ = _meeting_and_settings(meeting_id)
    form = IssueCardsForm()
    refused = False
    if form.validate_on_submit():
        try:
            return _issue_and_download(meeting_, form.count.data or 0, form.format.data)
        except DomainError as error:
            # No unit of work here: issue_cards_with_file owns its transactions (it plans, makes
            # the file with no lock held, then stores the batch and commits), so a refusal leaves
            # only its rollback to this view.
            get_session().rollback()
            show_error(error, form)
            refused = True
    status = 400 if form.errors else 409 if refused else 200
    return render_template(
        "voting/cards.html", meeting=meeting_, settings=settings_, form=form,
        rec=services.reconciliation(get_session(), meeting_id),
        batches=services.card_batches(get_session(), meeting_id),
        replacements=services.replacement_cards(get_session(), meeting_id),
    ), status


@bp.route("/staff/voting/<int:meeting_id>/cards/<int:batch>/again", methods=["GET", "POST"])
@requires(Permission.VOTING_CARDS)
def cards_again(meeting_id: int, batch: int) -> ResponseReturnValue:
    """Download a batch again (PDF or CSV): its unused cards get new codes, after a confirmation page."""
    meeting_, settings_ = _meeting_and_settings(meeting_id)
    found = next((b for b in services.card_batches(get_session(), meeting_id) if b.batch == batch), None)
    fmt = request.values.get("format", "pdf")
    if found is None or fmt not in ("pdf", "csv"):
        abort(404)
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        return _renew_and_download(meeting_, batch, fmt)  # type: ignore[arg-type]  # (checked above)
    label = _("Download batch %(batch)d again (%(format)s)", batch=batch, format=fmt.upper())
    return confirmation_page(Confirmation(
        title=label, lead=_("Batch %(batch)d: cards %(first)s–%(last)s, issued %(when)s.", batch=batch,
                            first=found.first_serial, last=found.last_serial,
                            when=format_local_datetime(found.issued_at)),
        consequences=renewal_consequences(found, settings_.state), button=label,
        action=url_for("voting.cards_again", meeting_id=meeting_id, batch=batch), hidden={"format": fmt},
        back=url_for("voting.cards", meeting_id=meeting_id), breadcrumb=_("Ballot cards"),
        after_download=url_for("voting.cards", meeting_id=meeting_id),
    ))


def _renew_and_download(meeting_: Meeting, batch: int, fmt: CardFormat) -> ResponseReturnValue:
    """New codes for the batch's unused cards, committed; then their file, made with no lock held
    (if making it fails, downloading the batch again gives fresh codes: nothing is lost)."""
    meeting_id, title, when = meeting_.id, meeting_.title, format_local_datetime(meeting_.starts_at)
    with unit_of_work() as work:
        renewed = services.renew_batch_codes(work.session, staff_actor(), meeting_id, batch, utcnow())
    if not work.done:
        return see_other("voting.cards", meeting_id=meeting_id)
    return _cards_file(meeting_id, title, when, renewed, fmt)


@bp.get("/staff/voting/<int:meeting_id>/posters.pdf")
@requires(Permission.VOTING_PREPARE)
def posters(meeting_id: int) -> ResponseReturnValue:
    """One poster per stand (PDF)."""
    from deltager.pdf.posters import posters_pdf, stand_posters

    meeting_ = services.get_vote_meeting(get_session(), meeting_id)
    pdf = posters_pdf(stand_posters(services.ballot_projects(get_session(), meeting_.round_id)),
                      meeting_title=meeting_.title)
    return download(pdf, f"standplakater-{meeting_id}.pdf", "application/pdf")


@bp.get("/staff/voting/<int:meeting_id>/paper-ballot.pdf")
@requires(Permission.VOTING_RUN)
def paper_ballot_pdf(meeting_id: int) -> ResponseReturnValue:
    """The paper ballot (PDF) for voters without a phone: print as many as needed."""
    from deltager.pdf.paper_ballot import ballot_lines, paper_ballot_pdf as make_pdf

    meeting_, settings_ = _meeting_and_settings(meeting_id)
    with force_locale("da"):  # the municipality's document: Danish whatever the staff member reads in
        when = format_local_datetime(meeting_.starts_at)
    pdf = make_pdf(ballot_lines(services.ballot_projects(get_session(), meeting_.round_id)),
                   meeting_title=meeting_.title, meeting_when=when,
                   min_choices=settings_.min_choices, max_choices=settings_.max_choices)
    return download(pdf, f"stemmeseddel-{meeting_id}.pdf", "application/pdf")


# --------------------------------------------------------------------------- staff: during the vote


def _paper_projects(meeting_: Any) -> list[services.BallotProject]:
    return services.ballot_projects(get_session(), meeting_.round_id)


@bp.route("/staff/voting/<int:meeting_id>/paper", methods=["GET", "POST"])
@requires(Permission.VOTING_RUN)
def paper(meeting_id: int) -> ResponseReturnValue:
    """Enter a paper ballot by the card's number; a POST shows the check page, nothing counts yet.

    "Go back and correct" on the check page posts the entries here again (``step=correct``): the
    form comes back filled in as it was.
    """
    meeting_, settings_ = _meeting_and_settings(meeting_id)
    form = SerialForm()
    chosen = _choices(request.form.getlist("choice")) if request.method == "POST" else []
    if request.form.get("step") == "correct":
        form.validate()  # (the CSRF check; the entries are shown again as they were)
        return _paper_page(meeting_, settings_, form, chosen or [], None)
    if form.validate_on_submit():
        try:
            serial = services.check_paper_ballot(get_session(), meeting_id, form.serial.data or "",
                                                 chosen if chosen is not None else [-1])
        except DomainError as error:
            return _paper_refused(meeting_, settings_, form, chosen or [], error)
        by_id = {p.id: p for p in _paper_projects(meeting_)}
        return render_template("voting/paper_check.html", meeting=meeting_, serial=serial, form=form,
                               chosen=[by_id[c] for c in chosen or []])
    status = 400 if form.errors or request.method == "POST" else 200
    return _paper_page(meeting_, settings_, form, chosen or [], None), status


@bp.post("/staff/voting/<int:meeting_id>/paper/count")
@requires(Permission.VOTING_RUN)
def paper_count(meeting_id: int) -> ResponseReturnValue:
    """Count a checked paper ballot (same rules as by phone; a card votes once)."""
    meeting_, settings_ = _meeting_and_settings(meeting_id)
    form = SerialForm()
    chosen = _choices(request.form.getlist("choice"))
    if not form.validate_on_submit():
        return _paper_page(meeting_, settings_, form, chosen or [], None), 400
    with unit_of_work(show=False) as work:  # a refusal about the choices shows beside them
        card = services.enter_paper_ballot(
            work.session, staff_actor(), meeting_id, form.serial.data or "",
            chosen if chosen is not None else [-1], utcnow(),
        )
    if work.error is not None:
        return _paper_refused(meeting_, settings_, form, chosen or [], work.error)
    flash(_("The paper ballot for card %(serial)s is counted.", serial=card.serial), "success")
    return see_other("voting.paper", meeting_id=meeting_id)


def _paper_refused(meeting_: Any, settings_: Any, form: SerialForm, chosen: list[int], error: DomainError) -> ResponseReturnValue:
    """The paper form again, entries kept, with why the ballot cannot count."""
    if isinstance(error, ValidationFailed) and error.field == "choice":
        return _paper_page(meeting_, settings_, form, chosen, translate_error(error)), 400
    show_error(error, form)
    return _paper_page(meeting_, settings_, form, chosen, None), 409 if isinstance(error, NotAllowed) else 400


def _paper_page(meeting_: Any, settings_: Any, form: SerialForm, chosen: list[int], choice_error: str | None) -> str:
    return render_template(
        "voting/paper.html", meeting=meeting_, settings=settings_, form=form, projects=_paper_projects(meeting_),
        chosen=set(chosen), choice_error=choice_error,
    )


def _qr_data_uri(url: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=12)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


@bp.route("/staff/voting/<int:meeting_id>/void", methods=["GET", "POST"])
@requires(Permission.VOTING_RUN)
def void(meeting_id: int) -> ResponseReturnValue:
    """Cancel a lost card and, if asked, issue a replacement shown once as a QR code on screen."""
    meeting_, settings_ = _meeting_and_settings(meeting_id)
    form = SerialForm()
    if form.validate_on_submit():
        replace, replacement = request.form.get("replace") == "1", None
        with unit_of_work(form) as work:
            card = services.void_card(work.session, staff_actor(), meeting_id, form.serial.data or "", utcnow())
            if replace:
                replacement = services.issue_replacement_card(work.session, staff_actor(), meeting_id, utcnow())
        if work.done and replacement is not None:
            return _replacement_page(meeting_, card, replacement)
        if work.done:
            flash(_("Card %(serial)s is cancelled.", serial=card.serial), "success")
            return see_other("voting.meeting", meeting_id=meeting_id)
    status = 400 if form.errors else 200
    return render_template("voting/void.html", meeting=meeting_, settings=settings_, form=form), status


def _replacement_page(meeting_: Meeting, voided: Any, card: services.IssuedCard) -> ResponseReturnValue:
    """The replacement card's code, once, as a QR code on screen (never stored by a cache)."""
    url = services.card_url(current_app.config["BASE_URL"], card.code)
    page = render_template("voting/replacement.html", meeting=meeting_, voided=voided, card=card, url=url,
                           qr=_qr_data_uri(url))
    return page, 200, {"Cache-Control": "private, no-store"}


# --------------------------------------------------------------------------- staff: after the vote


@bp.get("/staff/voting/<int:meeting_id>/protocol.pdf")
@requires(Permission.VOTING_RESULTS)
def protocol(meeting_id: int) -> ResponseReturnValue:
    """The protocol of the closed vote (PDF): the municipality's record, so always in Danish."""
    from deltager.pdf.protocol import protocol_data, protocol_pdf

    vote = services.closed_vote(get_session(), meeting_id)
    with force_locale("da"):  # labels and date alike, whatever language the reader chose
        data = protocol_data(vote, held_at=format_local_datetime(vote.meeting.starts_at),
                             rule=vote_rule_label(vote.allocation.rule),
                             tie_break=vote_tie_break_label(vote.allocation.tie_break))
    return download(protocol_pdf(data), f"protokol-{meeting_id}.pdf", "application/pdf")


@bp.get("/staff/voting/<int:meeting_id>/ballots.pb")
@requires(Permission.VOTING_RESULTS)
def export_pb(meeting_id: int) -> ResponseReturnValue:
    """The closed vote as a Pabulib file: anonymous ballots, no personal data."""
    try:
        text = services.export_pb(get_session(), meeting_id)
    except NotAllowed:
        abort(404)
    return download(text, f"afstemning-{meeting_id}.pb", "text/plain")


@bp.route("/staff/voting/compare", methods=["GET", "POST"])
@requires(Permission.VOTING_PREPARE)
@reads_first  # Equal Shares may work for 10 s on an upload: no write lock meanwhile
def compare() -> ResponseReturnValue:
    """What each rule would give, on an uploaded .pb file or a closed meeting's ballots."""
    form = _compare_form()
    result: comparison.Comparison | None = None
    if form.validate_on_submit():
        try:
            result = comparison.compare(get_session(), _uploaded(form), _chosen_meeting(form), form.tie_break.data)
        except DomainError as error:
            show_error(error)
    if result is not None and result.out_of_time:
        flash(_("Equal Shares did not finish within %(seconds)d seconds on this file, so only greedy by votes "
                "is shown. The command line computes it without a time limit: "
                "flask --app wsgi pb allocate FILE.pb --rule mes", seconds=comparison.COMPARE_SECONDS), "warning")
    return render_template("voting/compare.html", form=form, results=result.results if result else None,
                           names=result.names if result else {}, unit=result.unit if result else 100,
                           rule_labels=RULE_LABELS), 400 if form.errors else 200


def _uploaded(form: CompareForm) -> bytes | None:
    """The uploaded file's bytes, if a file was chosen."""
    upload = form.pb_file.data
    return upload.read() if upload and getattr(upload, "filename", "") else None


def _chosen_meeting(form: CompareForm) -> int | None:
    """The chosen closed meeting's id, if one was chosen."""
    text = (form.meeting_id.data or "").strip()
    return int(text) if text.isdecimal() and text.isascii() else None


def _compare_form() -> CompareForm:
    """The comparison's form, offering the closed voting meetings."""
    form = CompareForm()
    closed = [m for m, _state in services.list_vote_meetings(get_session(), state=VoteState.CLOSED)]
    form.meeting_id.choices = [SelectChoice("", _("— choose —"))] + [
        SelectChoice(str(m.id), f"{m.title} ({m.round.title})") for m in closed
    ]
    return form


@functools.lru_cache(maxsize=4096)
def _render_ballot_item(project: services.BallotProject, checked: bool, language: str, script_root: str) -> Markup:
    """A project's ``<li>`` on the ballot: a pure function of its arguments, so it is kept.

    Every phone in the hall asks for the same dozen entries in its own order; rendering them
    was most of the ballot page's CPU. The key holds everything the entry shows (the project's
    row is a frozen dataclass, so an edited project is a new key), the language and where the
    app is mounted, so a kept entry is never stale. Each worker keeps its own; none depends on it.
    """
    return Markup(current_app.jinja_env.get_template("voting/_ballot_item.html").render(p=project, checked=checked))
