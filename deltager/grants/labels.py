"""Grants' values in plain words: statuses as the grantee and as staff read them, claim kinds,
flags, who acts next, and the trail's actions. The app factory registers them as Jinja filters
(:func:`init_app`)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _

from deltager.grants.claims import ClaimFlag, WaitingFor
from deltager.grants.models import BatchStatus, ClaimKind, ClaimStatus, GrantStatus, PayoutMode
from deltager.labels import enum_label, register_filters
from deltager.web import show_enum_as

GRANT_STATUS_LABELS = {
    GrantStatus.ACTIVE: _("Running"),
    GrantStatus.ON_HOLD: _("On hold"),
    GrantStatus.STOPPED: _("Stopped"),
    GrantStatus.COMPLETED: _("Completed"),
}
#: A claim's status as the grantee reads it (short, plain).
CLAIM_STATUS_LABELS = {
    ClaimStatus.SUBMITTED: _("Sent. We look at it soon."),
    ClaimStatus.NEEDS_INFO: _("We need more from you"),
    ClaimStatus.APPROVED: _("Approved"),
    ClaimStatus.LOWERED: _("Approved, but a lower amount"),
    ClaimStatus.REJECTED: _("Not approved"),
    ClaimStatus.PAID: _("Paid"),
}
#: The same statuses as staff read them (the queue, the claim page).
CLAIM_STATUS_STAFF_LABELS = {
    ClaimStatus.SUBMITTED: _("Sent — awaiting a decision"),
    ClaimStatus.NEEDS_INFO: _("More information asked for"),
    ClaimStatus.APPROVED: _("Approved in full"),
    ClaimStatus.LOWERED: _("Approved at a lower amount"),
    ClaimStatus.REJECTED: _("Rejected"),
    ClaimStatus.PAID: _("Paid"),
}
CLAIM_KIND_LABELS = {
    ClaimKind.REIMBURSE: _("Paid by the grantee — reimburse"),
    ClaimKind.INVOICE: _("Invoice — pay the supplier"),
    ClaimKind.UPFRONT: _("Paid up front"),
}
PAYOUT_MODE_LABELS = {
    PayoutMode.RECEIPTS: _("Against receipts"),
    PayoutMode.UPFRONT: _("Up front (association, final account later)"),
}
FLAG_LABELS = {
    ClaimFlag.SAME_FILE: _("The same file was sent on another claim"),
    ClaimFlag.SAME_RECEIPT: _("Same supplier, date and amount as another claim"),
    ClaimFlag.OUTSIDE_PERIOD: _("Dated outside the project period"),
    ClaimFlag.LINE_OVER_BUDGET: _("The budget line is over budget"),
}
#: Who acts next, as staff read it and as the grantee reads it.
WAITING_STAFF_LABELS = {WaitingFor.US: _("Waiting for us"), WaitingFor.GRANTEE: _("Waiting for the grantee")}
WAITING_GRANTEE_LABELS = {WaitingFor.US: _("The municipality"), WaitingFor.GRANTEE: _("You")}
BATCH_STATUS_LABELS = {
    BatchStatus.OPEN: _("Open — claims can be added"),
    BatchStatus.EXPORTED: _("Sent to finance — locked"),
    BatchStatus.PAID: _("Paid"),
}
#: The fields of a grant's and a claim's history, in plain words (money fields show as kroner).
HISTORY_LABELS = {
    "amount_ore": _("Amount"), "approved_ore": _("Approved"), "paid_ore": _("Paid"), "repaid_ore": _("Paid back"),
    "released_ore": _("Back in the pot"), "status": _("Status"), "reason": _("Reason"),
    "stop_reason": _("Reason for stopping"), "hold_reason": _("Reason for the hold"),
    "grant_approved_ore": _("Approved of the grant"), "repayment_ore": _("Paid back"),
    "info_request": _("Information asked for"), "info_answer": _("Answer"),
}

grant_status_label = enum_label(GrantStatus, GRANT_STATUS_LABELS, "A grant's status in plain words.")
claim_status_label = enum_label(ClaimStatus, CLAIM_STATUS_LABELS, "A claim's status as the grantee reads it.")
claim_status_staff_label = enum_label(ClaimStatus, CLAIM_STATUS_STAFF_LABELS, "A claim's status as staff read it.")
claim_kind_label = enum_label(ClaimKind, CLAIM_KIND_LABELS, "What a claim asks for, in plain words.")
payout_mode_label = enum_label(PayoutMode, PAYOUT_MODE_LABELS, "How a grant is paid, in plain words.")
flag_label = enum_label(ClaimFlag, FLAG_LABELS, "What a caseworker should look at twice, in plain words.")
waiting_staff_label = enum_label(WaitingFor, WAITING_STAFF_LABELS, "Who acts next on a claim, for staff.")
waiting_grantee_label = enum_label(WaitingFor, WAITING_GRANTEE_LABELS, "Who acts next on a claim, for the grantee.")
batch_status_label = enum_label(BatchStatus, BATCH_STATUS_LABELS, "A payout batch's status in plain words.")


#: The filter that shows a history field's values.
HISTORY_VALUE_FILTERS = {"status": "grant_or_claim_status", "payout_mode": "payout_mode", "kind": "claim_kind"}


def grant_or_claim_status_label(value: str) -> str:
    """A grant's or a claim's status in the history (the two share none of their values but "paid")."""
    if value in {s.value for s in GrantStatus}:
        return grant_status_label(value)
    return claim_status_staff_label(value)

FILTERS = {
    "grant_status": grant_status_label, "claim_status": claim_status_label,
    "claim_status_staff": claim_status_staff_label, "claim_kind": claim_kind_label,
    "payout_mode": payout_mode_label, "claim_flag": flag_label, "waiting_staff": waiting_staff_label,
    "waiting_grantee": waiting_grantee_label, "batch_status": batch_status_label,
    "grant_or_claim_status": grant_or_claim_status_label,
}


def init_app(app: Flask) -> None:
    """Register grants' label filters, and show statuses in error messages in plain words."""
    register_filters(app, FILTERS)
    show_enum_as(GrantStatus)(grant_status_label)
    show_enum_as(ClaimStatus)(claim_status_staff_label)
