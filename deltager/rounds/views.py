"""Staff pages for rounds: overview, create, edit, move along the road."""

from __future__ import annotations

from flask import Blueprint, abort, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from deltager import road
from deltager.audit.services import history
from deltager.confirmation import Confirmation, confirmation_page
from deltager.db import get_session, utcnow
from deltager.permissions import Permission
from deltager.rounds import services
from deltager.rounds.consequences import transition_consequences
from deltager.rounds.forms import HISTORY_LABELS, RoundForm
from deltager.rounds.labels import round_status_label
from deltager.rounds.models import Round, RoundStatus
from deltager.timeutil import local_to_utc, utc_to_local
from deltager.forms import ConfirmForm
from deltager.web import requires, see_other, staff_actor
from deltager.work import unit_of_work

bp = Blueprint("rounds", __name__, url_prefix="/staff")


def _input(form: RoundForm) -> services.RoundInput:
    return services.RoundInput(
        title=form.title.data or "",
        theme=form.theme.data or "",
        description=form.description.data or "",
        pot_ore=form.pot.data or 0,
        cap_ore=form.cap.data or 0,
        funding_source=form.funding_source.data or "",
        partners=form.partners.data or "",
        applications_open_at=local_to_utc(form.applications_open_at.data),
        applications_close_at=local_to_utc(form.applications_close_at.data),
        voting_on=form.voting_on.data,
        project_deadline=form.project_deadline.data,
        report_deadline=form.report_deadline.data,
    )


def _form_for(round_: Round) -> RoundForm:
    form = RoundForm(obj=round_)
    form.pot.data, form.cap.data = round_.pot_ore, round_.cap_ore
    form.applications_open_at.data = utc_to_local(round_.applications_open_at).replace(tzinfo=None)
    form.applications_close_at.data = utc_to_local(round_.applications_close_at).replace(tzinfo=None)
    return form


@bp.get("/")
@requires(Permission.STAFF_HOME)
def staff_index() -> ResponseReturnValue:
    """The staff start page: every round and where it is."""
    return render_template("rounds/index.html", rounds=services.list_rounds(get_session()))


@bp.route("/rounds/new", methods=["GET", "POST"])
@requires(Permission.ROUNDS_EDIT)
def new_round() -> ResponseReturnValue:
    """Create a round."""
    form = RoundForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            round_ = services.create_round(work.session, staff_actor(), _input(form))
        if work.done:
            flash(_("The round “%(title)s” was created as a draft.", title=round_.title), "success")
            return see_other("rounds.detail", round_id=round_.id)
    return render_template("rounds/form.html", form=form, round=None), 400 if form.errors else 200


@bp.get("/rounds/<int:round_id>")
@requires(Permission.ROUNDS_VIEW)
def detail(round_id: int) -> ResponseReturnValue:
    """One round: its facts, its status and its history."""
    session = get_session()
    round_ = services.get_round(session, round_id)
    return render_template(
        "rounds/detail.html",
        round=round_,
        transitions=services.allowed_transitions(round_),
        history=history(session, "round", round_.id),
        history_labels=HISTORY_LABELS,
    )


@bp.route("/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@requires(Permission.ROUNDS_EDIT)
def edit(round_id: int) -> ResponseReturnValue:
    """Edit a round."""
    session = get_session()
    round_ = services.get_round(session, round_id)
    form = RoundForm() if request.method == "POST" else _form_for(round_)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.update_round(work.session, staff_actor(), round_id, _input(form))
        if work.done:
            flash(_("The changes are saved."), "success")
            return see_other("rounds.detail", round_id=round_id)
    return render_template("rounds/form.html", form=form, round=round_), 400 if form.errors else 200


@bp.route("/rounds/<int:round_id>/status", methods=["GET", "POST"])
@requires(Permission.ROUNDS_EDIT)
def change_status(round_id: int) -> ResponseReturnValue:
    """Move a round to the status named in the query (GET: the confirmation page) or form (POST: act)."""
    session = get_session()
    round_ = services.get_round(session, round_id)
    try:
        target = RoundStatus(request.values.get("status", ""))
    except ValueError:
        abort(400)
    if request.method == "GET":
        return confirmation_page(_transition_confirmation(round_, target))
    if ConfirmForm().validate_on_submit():
        with unit_of_work() as work:
            road.transition_round(work.session, staff_actor(), round_id, target)
        if work.done:
            flash(_("The round's status was changed."), "success")
    return see_other("rounds.detail", round_id=round_id)


def _transition_confirmation(round_: Round, target: RoundStatus) -> Confirmation:
    forward = target.index > round_.status.index
    title = (_("Move on to: %(status)s", status=round_status_label(target)) if forward
             else _("Go back to: %(status)s", status=round_status_label(target)))
    return Confirmation(
        title=title,
        lead=_("The round “%(title)s” is now at “%(status)s”. Read what the step does before you confirm.",
               title=round_.title, status=round_status_label(round_.status)),
        consequences=transition_consequences(get_session(), round_, target, utcnow()),
        action=url_for("rounds.change_status", round_id=round_.id), hidden={"status": target.value},
        button=title, back=url_for("rounds.detail", round_id=round_.id), breadcrumb=round_.title,
    )
