"""Grants on the web: a round's grants and its pot, a grant's ledger and the caseworker's actions,
the approval queue, a claim and its decision, payout batches; and the grantee's "My grant" page,
receipts sent from a phone and answers to a caseworker's question.

Staff routes are under /staff and declare a permission; the grantee's are under
/apply/<application_id>/grant (their own application, as every page of theirs), and every object
named in the URL is checked to belong to that application's grant.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from deltager import road, uploads
from deltager.applications import services as applications
from deltager.applications.models import Applicant, ApplicantType, Application
from deltager.audit.services import history
from deltager.citizens.auth import applicant_required, current_applicant
from deltager.citizens.services import applicant_actor
from deltager.confirmation import Confirmation, Consequence, confirmation_page
from deltager.db import get_session, reads_first, utcnow
from deltager.errors import N_, DomainError, NotFound
from deltager.forms import ConfirmForm
from deltager.grants import batches, claims, emails, queries, services
from deltager.grants.claims import Decision, FileInput, WaitingFor
from deltager.grants.forms import (
    AnswerForm, CertificateForm, ClaimForm, DecisionForm, NotesForm, PotForm, ReasonForm, RepaymentForm, StopForm, TalkForm,
)
from deltager.grants.labels import FIELD_LABELS, VALUE_FILTERS
from deltager.grants.models import (
    ClaimFile, ClaimStatus, ConditionsChannel, ExpenseClaim, FollowUpTalk, Grant, PayoutMode,
)
from deltager.i18n import format_local_date
from deltager.mail import sender_address
from deltager.money import format_ore
from deltager.pdf.grant_letter import GrantLetter, LetterLine, grant_letter_pdf, load_template
from deltager.permissions import Permission
from deltager.rounds.services import get_round, list_rounds
from deltager.timeutil import local_to_utc
from deltager.voting import services as voting
from deltager.web import download, page_number, requires, see_other, show_error, staff_actor, translate_error
from deltager.work import Work, already_received, unit_of_work

bp = Blueprint("grants", __name__)
PER_PAGE = 25
#: The most a batch's receipts ZIP holds (in memory): beyond it the caseworker downloads claim by claim.
ZIP_LIMIT_BYTES = 200 * 1024 * 1024


# --- shared -------------------------------------------------------------------------------------


def _uploader(person: Any) -> str | None:
    """Who uploads, for the per-person limit (deltager.uploads): an applicant or a staff user."""
    if isinstance(person, Applicant):
        return f"applicant:{person.id}"
    return f"user:{person.id}" if getattr(person, "is_authenticated", False) else None


def _received_files() -> list[FileInput]:
    """The receipt files sent with the form, through the upload pipeline (no write lock is held:
    the views that call this are ``reads_first``). ValidationFailed names the bad file."""
    checked = uploads.receive_files(uploads.RECEIPT, request.files.getlist("files"))
    return [FileInput(f.name, f.content_type, f.content, sent_sha256=f.sha256) for f in checked]


def _file_response(claim_file: ClaimFile) -> Response:
    """A receipt file: a picture we re-encoded is shown inline (as an <img>), anything else (a PDF)
    is only ever an attachment."""
    if claim_file.content_type == "image/jpeg":
        response = Response(claim_file.content, mimetype="image/jpeg")
        response.headers["Content-Disposition"] = "inline"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "private, no-store"
        return response
    return download(claim_file.content, f"bilag-{claim_file.claim_id}-{claim_file.id}.pdf", "application/pdf")


def letter_sender(config: Mapping[str, Any]) -> str:
    """Who signs the grant letter: ``GRANTS_SENDER``."""
    return str(config.get("GRANTS_SENDER") or "Socialforvaltningen")


def letter_contact(config: Mapping[str, Any]) -> str:
    """Whom the grant letter tells the grantee to contact: ``GRANTS_CONTACT`` (a name, phone and
    e-mail), else the sender and the address in ``MAIL_FROM``."""
    if config.get("GRANTS_CONTACT"):
        return str(config["GRANTS_CONTACT"])
    return ", ".join(part for part in (letter_sender(config), sender_address(config)) if part)


def _letter(grant: Grant) -> bytes:
    """The grant letter as PDF, always in Danish (the municipality's decision)."""
    session = get_session()
    application = applications.get_application(session, grant.application_id)
    round_ = get_round(session, grant.round_id)
    with force_locale("da"):
        letter = GrantLetter(
            reference=f"B-{grant.id}", round_title=round_.title, grantee_name=grant.payee_name,
            project_title=grant.title, vote_date=format_local_date(round_.voting_on), amount_ore=grant.amount_ore,
            purpose=application.summary or grant.title,
            lines=[LetterLine(line.description, line.planned_ore) for line in grant.budget_lines],
            payout_mode="receipts" if grant.payout_mode.value == "receipts" else "up_front",
            deadline=format_local_date(grant.deadline), children=grant.child_certificate_required,
            contact=letter_contact(current_app.config), sender=letter_sender(current_app.config),
            letter_date=format_local_date(grant.created_at.date()),
        )
    return grant_letter_pdf(letter, load_template(current_app.config.get("GRANT_LETTER_TEMPLATE")))


# --- staff: a round's grants and its pot --------------------------------------------------------


def _making_refused(round_id: int) -> str | None:
    """Why the round's grants cannot be made now, in the reader's words, or None."""
    session = get_session()
    try:
        road.refuse_making_grants(session, get_round(session, round_id))
    except DomainError as error:
        return translate_error(error)
    return None if not services.grants_of_round(session, round_id) else _("The grants of this round have been made.")


@bp.get("/staff/rounds/<int:round_id>/grants")
@requires(Permission.GRANTS_VIEW)
def round_grants(round_id: int) -> ResponseReturnValue:
    """A round's grants with their ledgers, the pot and what came back to it."""
    session = get_session()
    round_ = get_round(session, round_id)
    grants = services.grants_of_round(session, round_id)
    return render_template(
        "grants/round.html", round=round_, grants=grants, ledgers={g.id: services.ledger_of(g) for g in grants},
        pot=road.pot_status(session, round_id), refused=_making_refused(round_id),
        batches=batches.batches_of_round(session, round_id), pot_form=PotForm(),
    )


def _winners(round_id: int) -> list[tuple[Any, bool]]:
    """The frozen result's funded lines, each with whether an association applied (it may be paid up front)."""
    session = get_session()
    allocation = voting.round_allocation(session, round_id)
    lines = [line for line in voting.result_lines(session, allocation) if line.selected] if allocation else []
    return [(line, applications.get_application(session, line.application_id).applicant_type
             is ApplicantType.ASSOCIATION) for line in lines]


@bp.route("/staff/rounds/<int:round_id>/grants/make", methods=["GET", "POST"])
@requires(Permission.GRANTS_MANAGE)
def make(round_id: int) -> ResponseReturnValue:
    """Say what making the grants does (one per winner, the round starts running), then do it;
    associations ticked are paid up front."""
    round_ = get_round(get_session(), round_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        upfront = [int(v) for v in request.form.getlist("upfront") if v.isdigit() and len(v) < 10]
        with unit_of_work() as work:
            made = road.make_grants(work.session, round_id, staff_actor(), utcnow(), upfront=upfront)
            for made_grant in made:
                work.after_commit(emails.tell_granted, made_grant, _letter)
        if work.done:
            flash(_("%(count)d grants are made. The grantees have been sent the grant letter by e-mail.",
                    count=len(made)), "success")
            for made_grant, told in zip(made, work.results):
                if not told:
                    flash(_("“%(title)s”: send the grant letter by post.", title=made_grant.title) + " "
                          + emails.reach_them(made_grant), "warning")
        return see_other("grants.round_grants", round_id=round_id)
    return render_template("grants/make.html", round=round_, form=form, winners=_winners(round_id),
                           refused=_making_refused(round_id))


@bp.route("/staff/rounds/<int:round_id>/grants/from-pot", methods=["GET", "POST"])
@requires(Permission.GRANTS_MANAGE)
def from_pot(round_id: int) -> ResponseReturnValue:
    """Grant returned money to the next project in the frozen result's order: a confirmed decision."""
    session = get_session()
    round_ = get_round(session, round_id)
    pot, form = road.pot_status(session, round_id), PotForm()
    if form.validate_on_submit() and (form.application_id.data or "").isdigit():
        with unit_of_work() as work:
            grant = road.grant_from_pot(work.session, staff_actor(), round_id, int(form.application_id.data), utcnow())
        if work.done:
            flash(_("The project “%(title)s” got a grant from the returned money.", title=grant.title), "success")
            return see_other("grants.grant", grant_id=grant.id)
        return see_other("grants.round_grants", round_id=round_id)
    return render_template("grants/from_pot.html", round=round_, pot=pot, form=form)


# --- staff: one grant ---------------------------------------------------------------------------


def _grant_page(grant: Grant, status: int = 200, **forms: Any) -> ResponseReturnValue:
    session = get_session()
    defaults = {"hold": ReasonForm(prefix="hold"), "repayment": RepaymentForm(prefix="repay"),
                "certificate": CertificateForm(prefix="cert"), "talk": TalkForm(prefix="talk"), "notes": NotesForm()}
    grant_claims = claims.claims_of_grant(session, grant.id)
    return render_template(
        "grants/grant.html", grant=grant, ledger=services.ledger(session, grant.id), claims=grant_claims,
        talks=services.follow_ups_of(session, grant.id), confirm=ConfirmForm(), forms={**defaults, **forms},
        history=history(session, "grant", grant.id), history_labels=FIELD_LABELS["grant"],
        history_value_filters=VALUE_FILTERS["grant"], waiting=claims.waiting_for,
        repayments=queries.repayments_of(session, grant.id),
    ), status


@bp.get("/staff/grants/<int:grant_id>")
@requires(Permission.GRANTS_VIEW)
def grant(grant_id: int) -> ResponseReturnValue:
    """A grant for the caseworker: ledger, budget lines, claims, conditions, hold and stop, talks, history."""
    return _grant_page(services.get_grant(get_session(), grant_id))


@bp.get("/staff/grants/<int:grant_id>/letter.pdf")
@requires(Permission.GRANTS_VIEW)
def letter(grant_id: int) -> ResponseReturnValue:
    """The grant letter (Danish PDF) to send or print."""
    grant = services.get_grant(get_session(), grant_id)
    return download(_letter(grant), f"tilsagn-B-{grant.id}.pdf", "application/pdf")


def _flash_told(work: Any, grant: Grant, told: str, untold: str) -> None:
    """Flash what was done and that the grantee was told, or, when the e-mail did not go out (no
    address), what was done and how to reach the grantee instead."""
    if all(work.results):
        flash(told, "success")
    else:
        flash(untold, "success")
        flash(emails.reach_them(grant), "warning")


def _grant_action(grant_id: int, form: Any, act: Any, done: str, key: str | None = None,
                  untold: str | None = None) -> ResponseReturnValue:
    """The shape of every small action on a grant: validate, one service call, flash, back to the
    page. ``untold`` is the flash when the grantee could not be e-mailed (then staff reach them)."""
    grant = services.get_grant(get_session(), grant_id)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            act(work)
        if work.repeated:  # a double click's second request: the first did it
            return already_received("grants.grant", grant_id=grant_id)
        if work.done:
            _flash_told(work, grant, done, untold or done)
        if work.done or not form.errors:
            return see_other("grants.grant", grant_id=grant_id)
    return _grant_page(grant, 400, **({key: form} if key else {}))


@bp.post("/staff/grants/<int:grant_id>/conditions")
@requires(Permission.GRANTS_MANAGE)
def paper_conditions(grant_id: int) -> ResponseReturnValue:
    """Record a signed paper copy of the conditions."""
    return _grant_action(grant_id, ConfirmForm(), lambda work: services.accept_conditions(
        work.session, staff_actor(), grant_id, ConditionsChannel.PAPER, utcnow()),
        _("The signed conditions are recorded."))


@bp.post("/staff/grants/<int:grant_id>/certificate")
@requires(Permission.GRANTS_MANAGE)
def certificate(grant_id: int) -> ResponseReturnValue:
    """Record that the børneattest (or the association's declaration) was received."""
    form = CertificateForm(prefix="cert")
    return _grant_action(grant_id, form, lambda work: services.set_child_certificate(
        work.session, staff_actor(), grant_id, required=True, received_on=form.received_on.data, now=utcnow()),
        _("The børneattest is recorded as received."), "certificate")


@bp.post("/staff/grants/<int:grant_id>/hold")
@requires(Permission.GRANTS_MANAGE)
def hold(grant_id: int) -> ResponseReturnValue:
    """Put the grant on hold with a reason; the grantee is told."""
    form = ReasonForm(prefix="hold")

    def act(work: Any) -> None:
        held = services.hold_grant(work.session, staff_actor(), grant_id, form.reason.data or "", utcnow())
        if held.changed_now:
            work.after_commit(emails.tell, held.grant, "hold", reason=held.grant.hold_reason)

    return _grant_action(grant_id, form, act, _("The grant is on hold. The grantee has been told."), "hold",
                         untold=_("The grant is on hold."))


@bp.post("/staff/grants/<int:grant_id>/resume")
@requires(Permission.GRANTS_MANAGE)
def resume(grant_id: int) -> ResponseReturnValue:
    """Take the grant off hold."""
    return _grant_action(grant_id, ConfirmForm(), lambda work: services.resume_grant(
        work.session, staff_actor(), grant_id, utcnow()), _("The grant runs again."))


@bp.post("/staff/grants/<int:grant_id>/payout-mode")
@requires(Permission.GRANTS_MANAGE)
def payout_mode(grant_id: int) -> ResponseReturnValue:
    """Change how an association's grant is paid (before anything is claimed)."""
    mode = PayoutMode.UPFRONT if request.form.get("mode") == PayoutMode.UPFRONT.value else PayoutMode.RECEIPTS
    return _grant_action(grant_id, ConfirmForm(), lambda work: services.set_payout_mode(
        work.session, staff_actor(), grant_id, mode, utcnow()), _("The payout mode is changed."))


@bp.post("/staff/grants/<int:grant_id>/upfront")
@requires(Permission.GRANTS_PAYOUT)
def upfront(grant_id: int) -> ResponseReturnValue:
    """An association's grant paid up front: what is left, approved, ready for the next payout batch."""
    return _grant_action(grant_id, ConfirmForm(), lambda work: claims.request_upfront_payout(
        work.session, staff_actor(), grant_id, utcnow()), _("The up-front payout is approved and waits for a batch."))


@bp.route("/staff/grants/<int:grant_id>/stop", methods=["GET", "POST"])
@requires(Permission.GRANTS_MANAGE)
def stop(grant_id: int) -> ResponseReturnValue:
    """Say what stopping does (open claims rejected, the rest back to the pot), let the caseworker
    decide about approved receipts not yet paid, then stop with a reason."""
    session = get_session()
    grant = services.get_grant(session, grant_id)
    preview = services.stop_preview(session, grant)
    form = StopForm()
    form.set_unpaid(format_ore(preview.withdrawable_ore))
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            stopped = services.stop_grant(work.session, staff_actor(), grant_id, form.reason.data or "", utcnow(),
                                          pay_approved=form.pay_approved)
            if stopped.changed_now:
                work.after_commit(emails.tell, stopped.grant, "stopped", reason=stopped.grant.stop_reason,
                                  amount_ore=stopped.withdrawn_ore)
        if work.done:
            back = (_("The grant is stopped. What was not paid is back in the pot.") if stopped.withdrawn_ore
                    else _("The grant is stopped. What was not approved is back in the pot."))
            _flash_told(work, grant, back + " " + _("The grantee has been told."), back)
            return see_other("grants.grant", grant_id=grant_id)
    return render_template("grants/stop.html", grant=grant, form=form, preview=preview,
                           ledger=services.ledger_of(grant)), 400 if form.errors else 200


def _completion(grant: Grant) -> Confirmation:
    """What completing the grant does, and why it would be refused now (blocking)."""
    ledger = services.ledger_of(grant)
    found = [Consequence(_("Nothing more can be claimed or approved on the grant."))]
    found.append(Consequence(_("What is left and not approved (%(left)s) goes back to the round's pot.",
                               left=format_ore(ledger.left_ore))))
    if ledger.waiting_ore:
        found.append(Consequence(_("Claims approved and not paid yet (%(waiting)s) are still paid.",
                                   waiting=format_ore(ledger.waiting_ore))))
    found.append(Consequence(_("The grantee is told by e-mail that the grant is completed.")))
    found.append(Consequence(_("This cannot be undone."), warning=True))
    try:
        services.refuse_completing(get_session(), grant)
    except DomainError as error:
        found.insert(0, Consequence(translate_error(error), blocking=True))
    return Confirmation(
        title=_("Complete the grant"), lead=_("The project “%(title)s” is done. Read what completing does before "
                                              "you confirm.", title=grant.title),
        consequences=found, action=url_for("grants.complete", grant_id=grant.id), button=_("Complete the grant"),
        back=url_for("grants.grant", grant_id=grant.id), breadcrumb=grant.title,
    )


@bp.route("/staff/grants/<int:grant_id>/complete", methods=["GET", "POST"])
@requires(Permission.GRANTS_MANAGE)
def complete(grant_id: int) -> ResponseReturnValue:
    """Say what completing does (the remainder back to the pot; refused while claims wait), then do it."""
    grant = services.get_grant(get_session(), grant_id)
    if request.method == "GET" or not ConfirmForm().validate_on_submit():
        return confirmation_page(_completion(grant))
    with unit_of_work() as work:
        done = services.complete_grant(work.session, staff_actor(), grant_id, utcnow())
        if done.changed_now:
            work.after_commit(emails.tell, done.grant, "completed", amount_ore=done.grant.released_ore)
    if work.done:
        _flash_told(work, grant, _("The grant is completed. What was left is back in the pot. The grantee has been "
                                   "told."), _("The grant is completed. What was left is back in the pot."))
    return see_other("grants.grant", grant_id=grant_id)


@bp.post("/staff/grants/<int:grant_id>/repayment")
@requires(Permission.GRANTS_MANAGE)
def repayment(grant_id: int) -> ResponseReturnValue:
    """Record money the grantee paid back (it goes back to the pot)."""
    form = RepaymentForm(prefix="repay")
    return _grant_action(grant_id, form, lambda work: services.record_repayment(
        work.session, staff_actor(), grant_id, form.amount.data or 0, form.received_on.data, form.note.data or "",
        utcnow()), _("The repayment is recorded."), "repayment")


@bp.post("/staff/grants/<int:grant_id>/follow-up")
@requires(Permission.GRANTS_MANAGE)
def follow_up(grant_id: int) -> ResponseReturnValue:
    """Mark (or unmark) that the grant needs a follow-up talk."""
    needed = request.form.get("needed") == "1"
    return _grant_action(grant_id, ConfirmForm(), lambda work: services.set_follow_up_needed(
        work.session, staff_actor(), grant_id, needed, utcnow()), _("Saved."))


@bp.post("/staff/grants/<int:grant_id>/talks")
@requires(Permission.GRANTS_MANAGE)
def book_talk(grant_id: int) -> ResponseReturnValue:
    """Book a follow-up talk; the grantee gets an e-mail with the calendar file."""
    form = TalkForm(prefix="talk")

    def act(work: Any) -> None:
        now = utcnow()
        talk = services.book_follow_up(work.session, staff_actor(), grant_id, local_to_utc(form.at.data),
                                       form.place.data or "", now, minutes=form.minutes.data or 60)
        work.after_commit(emails.tell_talk, talk, now)

    return _grant_action(grant_id, form, act, _("The talk is booked. The grantee has been sent the calendar file."),
                         "talk")


@bp.post("/staff/talks/<int:talk_id>/notes")
@requires(Permission.GRANTS_MANAGE)
def talk_notes(talk_id: int) -> ResponseReturnValue:
    """Write the notes of a follow-up talk."""
    talk = services.get_follow_up(get_session(), talk_id)
    form = NotesForm()
    return _grant_action(talk.grant_id, form, lambda work: services.write_follow_up_notes(
        work.session, staff_actor(), talk_id, form.notes.data or "", utcnow()), _("The notes are saved."), "notes")


@bp.get("/staff/talks/<int:talk_id>/talk.ics")
@requires(Permission.GRANTS_VIEW)
def talk_ics(talk_id: int) -> ResponseReturnValue:
    """The follow-up talk as a calendar file, to send to the grantee."""
    return _talk_file(services.get_follow_up(get_session(), talk_id))


def _talk_file(talk: FollowUpTalk) -> Response:
    """A follow-up talk as a calendar file (for the caseworker to send, or the grantee to save)."""
    data = services.follow_up_ics(talk, title=talk.grant.title, now=utcnow())
    return download(data, f"opfoelgning-{talk.id}.ics", "text/calendar")


# longer because it is the paper route's whole form: the files are read before the write begins
@bp.route("/staff/grants/<int:grant_id>/paper-claim", methods=["GET", "POST"])
@requires(Permission.GRANTS_CLAIM_APPROVE)
@uploads.accepts(uploads.RECEIPT, person=lambda: _uploader(current_user))
@reads_first  # the receipt files are checked and re-encoded before the view writes
def paper_claim(grant_id: int) -> ResponseReturnValue:
    """Register a claim handed in on paper (photographed or scanned) on the grantee's behalf."""
    grant = services.get_grant(get_session(), grant_id)
    form = ClaimForm()
    form.set_lines(grant.budget_lines)
    if form.validate_on_submit():
        work, sent = _send_claim(form, grant, staff_actor(), on_paper=True)
        if work is not None and work.repeated:
            return already_received("grants.grant", grant_id=grant_id)
        if sent is not None:
            flash(_("The claim %(ref)s is registered.", ref=sent.reference), "success")
            return see_other("grants.claim", claim_id=sent.id)
    return render_template("grants/paper_claim.html", grant=grant, form=form), 400 if request.method == "POST" else 200


def _send_claim(form: ClaimForm, grant: Grant, actor: Any, *,
                on_paper: bool = False) -> tuple[Work | None, ExpenseClaim | None]:
    """Check the files (no lock held), then submit the claim in one unit of work: the work (None
    when a file was refused) and the claim (None unless it was submitted now)."""
    try:
        files = _received_files()
    except DomainError as error:
        show_error(error, form)
        return None, None
    with unit_of_work(form) as work:
        submitted = claims.submit_claim(work.session, actor, grant.id, form.to_input(), files, utcnow(),
                                        on_paper=on_paper)
    return work, submitted.claim if work.done else None


# --- staff: the approval queue and a claim ------------------------------------------------------


def _queue_filters() -> dict[str, Any]:
    args = request.args
    round_id = args.get("round", "")
    status = args.get("status", "")
    waiting = args.get("waiting", "")
    return {
        "round_id": int(round_id) if round_id.isdigit() and len(round_id) < 10 else None,
        "status": ClaimStatus(status) if status in {s.value for s in ClaimStatus} else None,
        "waiting": WaitingFor(waiting) if waiting in {w.value for w in WaitingFor} else None,
    }


@bp.get("/staff/claims")
@requires(Permission.GRANTS_VIEW)
def queue() -> ResponseReturnValue:
    """The approval queue across grants: oldest first, filters, pages, flags."""
    session = get_session()
    filters = _queue_filters()
    result = claims.approval_queue(session, **filters, page=page_number(), per_page=PER_PAGE)
    args = {k: v for k, v in {"round": filters["round_id"], "status": filters["status"] and filters["status"].value,
                               "waiting": filters["waiting"] and filters["waiting"].value}.items() if v}
    return render_template("grants/queue.html", result=result, filters=filters, args=args,
                           rounds=list_rounds(session), statuses=list(ClaimStatus), waitings=list(WaitingFor))


def _claim_page(claim: ExpenseClaim, form: DecisionForm | None = None,
                status: int | None = None) -> ResponseReturnValue:
    session = get_session()
    ledger = services.ledger(session, claim.grant_id)
    line = next((entry for entry in ledger.lines if entry.line_id == claim.budget_line_id), None)
    return render_template(
        "grants/claim.html", claim=claim, grant=claim.grant, ledger=ledger, line=line,
        flags=claims.claim_flags(session, claim), form=form or DecisionForm(), waiting=claims.waiting_for(claim),
        history=history(session, "expense_claim", claim.id), history_labels=FIELD_LABELS["expense_claim"],
        history_value_filters=VALUE_FILTERS["expense_claim"],
    ), status or (400 if form is not None and form.errors else 200)


@bp.get("/staff/claims/<int:claim_id>")
@requires(Permission.GRANTS_VIEW)
def claim(claim_id: int) -> ResponseReturnValue:
    """A claim beside its budget line: amount, date, what for, files, flags, and the decision."""
    return _claim_page(claims.get_claim(get_session(), claim_id))


#: The same, when the grantee could not be e-mailed (staff are told how to reach them).
DECIDED_UNTOLD = {
    Decision.APPROVE: N_("The claim is approved."),
    Decision.LOWER: N_("The claim is approved with a lower amount."),
    Decision.REJECT: N_("The claim is rejected."),
    Decision.ASK_INFO: N_("The claim waits for more information from the grantee."),
}
DECIDED = {
    Decision.APPROVE: N_("The claim is approved. The grantee has been told."),
    Decision.LOWER: N_("The claim is approved with a lower amount. The grantee has been told why."),
    Decision.REJECT: N_("The claim is rejected. The grantee has been told why."),
    Decision.ASK_INFO: N_("The grantee has been asked for more information."),
}


@bp.post("/staff/claims/<int:claim_id>/decision")
@requires(Permission.GRANTS_CLAIM_APPROVE)
def decide(claim_id: int) -> ResponseReturnValue:
    """Approve in full, approve a lower amount, reject, or ask for more; the grantee gets an e-mail."""
    claim = claims.get_claim(get_session(), claim_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _claim_page(claim, form)
    decision = Decision(form.decision.data)
    with unit_of_work(form) as work:
        decided = claims.decide_claim(work.session, staff_actor(), claim_id, decision, utcnow(),
                                      approved_ore=form.approved_amount.data, reason=form.reason.data or "")
        if decided.decided_now:  # a double click's second request changed nothing: no second e-mail
            work.after_commit(emails.tell_claim, decided.claim.grant, decided.claim)
    if work.done:
        _flash_told(work, claim.grant, _(DECIDED[decision]), _(DECIDED_UNTOLD[decision]))
        return see_other("grants.claim", claim_id=claim_id)
    return _claim_page(claim, form, work.refused_status)


@bp.get("/staff/claim-files/<int:file_id>")
@requires(Permission.GRANTS_VIEW)
def staff_file(file_id: int) -> ResponseReturnValue:
    """A receipt file: a photo inline (for the claim page's <img>), a PDF as a download."""
    return _file_response(claims.get_claim_file(get_session(), file_id))


# --- staff: payout batches ----------------------------------------------------------------------


@bp.get("/staff/rounds/<int:round_id>/payouts")
@requires(Permission.GRANTS_VIEW)
def payouts(round_id: int) -> ResponseReturnValue:
    """A round's payout batches, and the approved claims waiting for one (and those held back, and why)."""
    session = get_session()
    ready, blocked = batches.waiting_for_payout(session, round_id)
    return render_template("grants/payouts.html", round=get_round(session, round_id), ready=ready, blocked=blocked,
                           batches=batches.batches_of_round(session, round_id), form=ConfirmForm())


@bp.post("/staff/rounds/<int:round_id>/payouts")
@requires(Permission.GRANTS_PAYOUT)
def create_batch(round_id: int) -> ResponseReturnValue:
    """A new batch of every approved claim that may be paid now."""
    get_round(get_session(), round_id)
    if not ConfirmForm().validate_on_submit():
        return see_other("grants.payouts", round_id=round_id)
    with unit_of_work() as work:
        batch = batches.create_batch(work.session, staff_actor(), round_id, utcnow())
    if work.done:
        flash(_("The payout batch %(ref)s is created.", ref=batch.reference), "success")
        return see_other("grants.batch", batch_id=batch.id)
    return see_other("grants.payouts", round_id=round_id)


def _batch_page(batch_id: int, template: str = "grants/batch.html", **extra: Any) -> ResponseReturnValue:
    session = get_session()
    batch = batches.get_batch(session, batch_id)
    summary = batches.batch_summary(session, batch_id, get_round(session, batch.round_id).pot_ore)
    ready, blocked = batches.waiting_for_payout(session, batch.round_id)
    return render_template(template, batch=batch, summary=summary, claims=batches.batch_claims(session, batch_id),
                           ready=ready, blocked=blocked, form=ConfirmForm(),
                           history=history(session, "payout_batch", batch_id),
                           history_labels=FIELD_LABELS["payout_batch"],
                           history_value_filters=VALUE_FILTERS["payout_batch"], **extra)


@bp.get("/staff/payouts/<int:batch_id>")
@requires(Permission.GRANTS_VIEW)
def batch(batch_id: int) -> ResponseReturnValue:
    """A batch: its total against the pot, its claims, and what to do next."""
    return _batch_page(batch_id)


@bp.post("/staff/payouts/<int:batch_id>/claims")
@requires(Permission.GRANTS_PAYOUT)
def add_claims(batch_id: int) -> ResponseReturnValue:
    """Add the ticked approved claims (in no batch yet) to an open batch."""
    batches.get_batch(get_session(), batch_id)
    wanted = [int(v) for v in request.form.getlist("claim") if v.isdigit() and len(v) < 10]
    if ConfirmForm().validate_on_submit():
        with unit_of_work() as work:
            added = batches.add_to_batch(work.session, staff_actor(), batch_id, wanted, utcnow())
        if work.done:
            flash(ngettext("%(num)d claim is added to the batch.", "%(num)d claims are added to the batch.",
                           len(added)) if added else _("Tick the claims to add."), "success" if added else "error")
    return see_other("grants.batch", batch_id=batch_id)


@bp.post("/staff/payouts/<int:batch_id>/claims/<int:claim_id>/remove")
@requires(Permission.GRANTS_PAYOUT)
def take_out(batch_id: int, claim_id: int) -> ResponseReturnValue:
    """Take a claim out of an open batch: it waits for the next one."""
    batches.get_batch(get_session(), batch_id)
    if ConfirmForm().validate_on_submit():
        with unit_of_work() as work:
            batches.remove_from_batch(work.session, staff_actor(), batch_id, claim_id, utcnow())
        if work.done:
            flash(_("The claim U-%(id)d is taken out of the batch. It waits for the next batch.", id=claim_id),
                  "success")
    return see_other("grants.batch", batch_id=batch_id)


@bp.route("/staff/payouts/<int:batch_id>/export", methods=["GET", "POST"])
@requires(Permission.GRANTS_PAYOUT)
def export(batch_id: int) -> ResponseReturnValue:
    """Say that exporting locks the batch, then answer with the CSV for the finance system."""
    if not ConfirmForm().validate_on_submit():
        return _batch_page(batch_id, "grants/batch_export.html")
    with unit_of_work() as work:
        text = batches.export_batch(work.session, staff_actor(), batch_id, utcnow())
    if not work.done:
        return see_other("grants.batch", batch_id=batch_id)
    return download(text.encode("utf-8-sig"), f"udbetaling-UB-{batch_id}.csv", "text/csv")


@bp.route("/staff/payouts/<int:batch_id>/paid", methods=["GET", "POST"])
@requires(Permission.GRANTS_PAYOUT)
def mark_paid(batch_id: int) -> ResponseReturnValue:
    """Say what marking as paid does, then do it; each grantee is told."""
    if not ConfirmForm().validate_on_submit():
        return _batch_page(batch_id, "grants/batch_paid.html")
    told: list[Grant] = []
    with unit_of_work() as work:
        paid = batches.mark_batch_paid(work.session, staff_actor(), batch_id, utcnow())
        if paid.changed_now:  # a second click changed nothing: nobody is told twice
            for grant_id, amount in _paid_per_grant(batches.batch_claims(work.session, batch_id)).items():
                told.append(services.get_grant(work.session, grant_id))
                work.after_commit(emails.tell, told[-1], "paid", amount_ore=amount)
    if work.done and not paid.changed_now:
        flash(_("The batch was marked as paid already."), "success")
    elif work.done:
        flash(_("The batch is marked as paid. The grantees have been told.") if all(work.results)
              else _("The batch is marked as paid."), "success")
        for grant, was_told in zip(told, work.results):
            if not was_told:
                flash(_("“%(title)s”: the grantee is not told.", title=grant.title) + " " + emails.reach_them(grant),
                      "warning")
    return see_other("grants.batch", batch_id=batch_id)


def _paid_per_grant(batch_claims: list[ExpenseClaim]) -> dict[int, int]:
    paid: dict[int, int] = {}
    for c in batch_claims:
        paid[c.grant_id] = paid.get(c.grant_id, 0) + (c.approved_ore or 0)
    return paid


@bp.get("/staff/payouts/<int:batch_id>/receipts.zip")
@requires(Permission.GRANTS_PAYOUT)
def batch_zip(batch_id: int) -> ResponseReturnValue:
    """The batch's receipts as one ZIP for the auditors' spot checks (claim-<id>-<n>.<ext>)."""
    session = get_session()
    batches.get_batch(session, batch_id)
    files = [(c.id, n, f) for c in batches.batch_claims(session, batch_id) for n, f in enumerate(c.files, start=1)]
    if sum(f.size_bytes for _c, _n, f in files) > ZIP_LIMIT_BYTES:
        flash(_("The receipts are too large for one ZIP file. Download them claim by claim."), "error")
        return see_other("grants.batch", batch_id=batch_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # JPEG, PNG and PDF are compressed already
        for claim_id, n, f in files:
            ext = "jpg" if f.content_type == "image/jpeg" else "png" if f.content_type == "image/png" else "pdf"
            archive.writestr(f"claim-{claim_id}-{n}.{ext}", f.content)
    return download(buffer.getvalue(), f"bilag-UB-{batch_id}.zip", "application/zip")


# --- the grantee --------------------------------------------------------------------------------


def _me() -> Applicant:
    applicant = current_applicant()
    assert applicant is not None  # guaranteed by @applicant_required
    return applicant


def _own(application_id: int) -> tuple[Application, Grant]:
    """The signed-in grantee's application and its grant; NotFound for anyone else's."""
    session = get_session()
    application = applications.get_own_application(session, _me(), application_id)
    grants = services.grants_for_applications(session, [application.id])
    if not grants:
        raise NotFound(N_("This grant does not exist."))
    return application, grants[0]


def _own_claim(application_id: int, claim_id: int) -> tuple[Grant, ExpenseClaim]:
    application, grant = _own(application_id)
    return grant, claims.get_own_claim(get_session(), claim_id, [application.id])


@bp.get("/apply/<int:application_id>/grant")
@applicant_required
def mine(application_id: int) -> ResponseReturnValue:
    """My grant: the money in plain words, my receipts and what happens next."""
    session = get_session()
    application, grant = _own(application_id)
    return render_template("grants/mine.html", application=application, grant=grant,
                           ledger=services.ledger(session, grant.id), claims=claims.claims_of_grant(session, grant.id),
                           talks=services.upcoming_follow_ups(session, grant.id, utcnow()),
                           waiting=claims.waiting_for, form=ConfirmForm(), contact=letter_contact(current_app.config))


@bp.post("/apply/<int:application_id>/grant/accept")
@applicant_required
def accept(application_id: int) -> ResponseReturnValue:
    """I accept the conditions in the grant letter."""
    _application, grant = _own(application_id)
    if ConfirmForm().validate_on_submit():
        with unit_of_work() as work:
            services.accept_conditions(work.session, applicant_actor(_me()), grant.id, ConditionsChannel.ONLINE,
                                       utcnow())
        if work.done:
            flash(_("Thank you. You have accepted the conditions."), "success")
    return see_other("grants.mine", application_id=application_id)


@bp.get("/apply/<int:application_id>/grant/talks/<int:talk_id>/talk.ics")
@applicant_required
def my_talk_ics(application_id: int, talk_id: int) -> ResponseReturnValue:
    """A follow-up talk about my grant, as a calendar file to save in my phone's calendar."""
    _application, grant = _own(application_id)
    return _talk_file(services.get_own_follow_up(get_session(), talk_id, grant.id))


@bp.get("/apply/<int:application_id>/grant/letter.pdf")
@applicant_required
def my_letter(application_id: int) -> ResponseReturnValue:
    """My grant letter (PDF)."""
    _application, grant = _own(application_id)
    return download(_letter(grant), f"tilsagn-B-{grant.id}.pdf", "application/pdf")


@bp.route("/apply/<int:application_id>/grant/receipt", methods=["GET", "POST"])
@applicant_required
@uploads.accepts(uploads.RECEIPT, person=lambda: _uploader(current_applicant()))
@reads_first  # the receipt files are checked and re-encoded before the view writes
def send_receipt(application_id: int) -> ResponseReturnValue:
    """Send a receipt: amount, date, what for, budget line, who is paid, and 1–5 files."""
    application, grant = _own(application_id)
    form = ClaimForm()
    form.set_lines(grant.budget_lines)
    if form.validate_on_submit():
        work, sent = _send_claim(form, grant, applicant_actor(_me()))
        if work is not None and work.repeated:
            return already_received("grants.mine", application_id=application_id)
        if sent is not None:
            flash(_("Thank you. We have your receipt. We look at it soon."), "success")
            return see_other("grants.mine", application_id=application_id)
    return render_template("grants/send_receipt.html", application=application, grant=grant, form=form,
                           left=services.ledger_of(grant).left_ore), 400 if request.method == "POST" else 200


# longer because it is the answer's whole form: the files are read before the write begins
@bp.route("/apply/<int:application_id>/grant/claims/<int:claim_id>/answer", methods=["GET", "POST"])
@applicant_required
@uploads.accepts(uploads.RECEIPT, person=lambda: _uploader(current_applicant()))
@reads_first  # the files are checked and re-encoded before the view writes
def answer(application_id: int, claim_id: int) -> ResponseReturnValue:
    """"Here is what you asked for": an answer to the caseworker's question, with files if needed."""
    grant, claim = _own_claim(application_id, claim_id)
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            files = _received_files()
        except DomainError as error:
            show_error(error, form)
        else:
            with unit_of_work(form) as work:
                claims.answer_info_request(work.session, applicant_actor(_me()), claim_id, form.answer.data or "",
                                           files, utcnow())
            if work.repeated:
                return already_received("grants.mine", application_id=application_id)
            if work.done:
                flash(_("Thank you. We have your answer."), "success")
                return see_other("grants.mine", application_id=application_id)
    return render_template("grants/answer.html", application_id=application_id, grant=grant, claim=claim,
                           form=form), 400 if request.method == "POST" else 200


@bp.get("/apply/<int:application_id>/grant/files/<int:file_id>")
@applicant_required
def my_file(application_id: int, file_id: int) -> ResponseReturnValue:
    """A receipt file I sent."""
    application, _grant = _own(application_id)
    return _file_response(claims.get_claim_file(get_session(), file_id, application_ids=[application.id]))
