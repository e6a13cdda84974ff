"""The e-mails to a grantee, in their language, after the commit: the grant made (with the grant
letter), a claim approved, lowered, rejected or needing more information, a payout made, the
grant on hold, stopped or completed. A grantee without an e-mail address gets none: staff are
told how to reach them instead (:func:`reach_them`).

Views queue them with ``work.after_commit``; the texts use gettext (web-side, flask_babel)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from deltager import mail
from deltager.applications import services as applications
from deltager.db import get_session
from deltager.errors import N_
from deltager.grants import services
from deltager.grants.models import ClaimStatus, ExpenseClaim, FollowUpTalk, Grant

#: What happened → (subject, what the e-mail says; the template shows the reason when there is one).
NEWS = {
    "granted": N_("You have got a grant"),
    "approved": N_("Your receipt is approved"),
    "lowered": N_("Your receipt is approved with a lower amount"),
    "rejected": N_("Your receipt was not approved"),
    "needs_info": N_("We need more information about your receipt"),
    "paid": N_("Money from your grant is on its way"),
    "hold": N_("Your grant is on hold"),
    "stopped": N_("Your grant is stopped"),
    "completed": N_("Your grant is completed"),
    "talk": N_("A talk about your project"),
}
CLAIM_NEWS = {ClaimStatus.APPROVED: "approved", ClaimStatus.LOWERED: "lowered", ClaimStatus.REJECTED: "rejected",
              ClaimStatus.NEEDS_INFO: "needs_info"}


def tell(grant: Grant, news: str, *, claim: ExpenseClaim | None = None, amount_ore: int | None = None,
         reason: str = "", talk: FollowUpTalk | None = None, attachments: tuple[mail.Attachment, ...] = ()) -> bool:
    """E-mail the grantee what happened, in their language; nobody without an address (staff phone them)."""
    applicant = applications.get_application(get_session(), grant.application_id).applicant
    if applicant.email is None:
        return False
    link = current_app.config["BASE_URL"].rstrip("/") + url_for("grants.mine", application_id=grant.application_id)
    with force_locale(applicant.language) if applicant.language else nullcontext():
        text = render_template("grants/mail/news.html", news=news, grant=grant, claim=claim, amount_ore=amount_ore,
                               reason=reason, link=link, talk=talk)
        return mail.send(to=applicant.email, subject=_(NEWS[news]), text=text, notify=False, attachments=attachments)


def tell_granted(grant: Grant, letter: Callable[[Grant], bytes]) -> bool:
    """The grant is made: tell the grantee the amount and that they must read the grant letter
    (attached as PDF, made by ``letter`` only for a grantee with an address) and accept the
    conditions on their page."""
    if applications.get_application(get_session(), grant.application_id).applicant.email is None:
        return False
    pdf = (f"tilsagn-B-{grant.id}.pdf", "application/pdf", letter(grant))
    return tell(grant, "granted", amount_ore=grant.amount_ore, attachments=(pdf,))


def reach_them(grant: Grant) -> str:
    """For the caseworker, when the grantee could not be e-mailed: why, and how to reach them
    instead (the phone and address on the application)."""
    application = applications.get_application(get_session(), grant.application_id)
    phone = application.contact_phone or application.applicant.phone
    address = application.contact_address or grant.payee_address
    if application.applicant.email is None:
        why = _("The grantee has no e-mail.")
    else:
        why = _("The e-mail to the grantee could not be sent.")
    if phone and address:
        how = _("Phone them at %(phone)s or write to them at %(address)s.", phone=phone, address=address)
    elif phone:
        how = _("Phone them at %(phone)s.", phone=phone)
    elif address:
        how = _("Write to them at %(address)s.", address=address)
    else:
        how = _("Find their phone number or address on the application.")
    return f"{why} {how}"


def tell_talk(talk: FollowUpTalk, now: Any) -> bool:
    """A follow-up talk is booked: tell the grantee when and where, with the calendar file."""
    ics = services.follow_up_ics(talk, title=talk.grant.title, now=now)
    return tell(talk.grant, "talk", talk=talk, attachments=(("opfoelgningssamtale.ics", "text/calendar", ics),))


def tell_claim(grant: Grant, claim: ExpenseClaim) -> Any:
    """After a decision on a claim: tell the grantee (an approval, a lowering, a rejection, a question)."""
    news = CLAIM_NEWS.get(claim.status)
    if news is None:
        return False
    reason = claim.info_request if claim.status is ClaimStatus.NEEDS_INFO else claim.reason
    return tell(grant, news, claim=claim, amount_ore=claim.approved_ore, reason=reason)
