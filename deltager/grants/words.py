"""The grantee's words for a claim's status and who acts next (plainer than staff's, in
``deltager.grants.labels``), registered as Jinja filters by the app factory."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _

from deltager.grants.claims import WaitingFor
from deltager.grants.models import ClaimStatus
from deltager.labels import enum_label, register_filters

#: A claim's status as the grantee reads it on a phone: short and plain.
GRANTEE_CLAIM_STATUS = {
    ClaimStatus.SUBMITTED: _("Sent. We look at it soon."),
    ClaimStatus.NEEDS_INFO: _("We need more from you"),
    ClaimStatus.APPROVED: _("Approved"),
    ClaimStatus.LOWERED: _("Approved, but a lower amount"),
    ClaimStatus.REJECTED: _("Not approved"),
    ClaimStatus.PAID: _("Paid"),
}
#: Who acts next, as the grantee reads it.
GRANTEE_WAITING = {WaitingFor.US: _("The municipality"), WaitingFor.GRANTEE: _("You")}

FILTERS = {
    "claim_status_grantee": enum_label(ClaimStatus, GRANTEE_CLAIM_STATUS, "A claim's status as the grantee reads it."),
    "waiting_grantee": enum_label(WaitingFor, GRANTEE_WAITING, "Who acts next on a claim, as the grantee reads it."),
}


def init_app(app: Flask) -> None:
    """Register the grantee's label filters."""
    register_filters(app, FILTERS)
