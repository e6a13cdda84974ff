"""The grants domain's values in plain words: statuses, payout modes, flags, who acts next, and
the audit trail's actions, objects and fields for grants, claims, batches and follow-up talks.

The app factory registers the enum labels as Jinja filters (:func:`init_app`); the audit trail
(``deltager.audit.views``) merges :data:`ACTION_LABELS`, :data:`OBJECT_LABELS`,
:data:`FIELD_LABELS` and :data:`VALUE_FILTERS` into its own tables.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _

from deltager.grants.claims import ClaimFlag, WaitingFor
from deltager.grants.models import (
    BatchStatus,
    ClaimKind,
    ClaimStatus,
    ConditionsChannel,
    GrantStatus,
    PayeeType,
    PayoutMode,
)
from deltager.labels import enum_label, register_filters

GRANT_STATUS_LABELS = {
    GrantStatus.ACTIVE: _("Active"),
    GrantStatus.ON_HOLD: _("On hold"),
    GrantStatus.STOPPED: _("Stopped"),
    GrantStatus.COMPLETED: _("Completed"),
}
PAYOUT_MODE_LABELS = {
    PayoutMode.RECEIPTS: _("Against receipts"),
    PayoutMode.UPFRONT: _("Up front, with a final account"),
}
PAYEE_TYPE_LABELS = {
    PayeeType.PRIVATE: _("Private person"),
    PayeeType.ASSOCIATION: _("Association"),
    PayeeType.SUPPLIER: _("Supplier"),
}
CONDITIONS_CHANNEL_LABELS = {
    ConditionsChannel.ONLINE: _("Accepted online"),
    ConditionsChannel.PAPER: _("Signed on paper (recorded by staff)"),
}
CLAIM_KIND_LABELS = {
    ClaimKind.REIMBURSE: _("I paid, reimburse me"),
    ClaimKind.INVOICE: _("An invoice to pay to a supplier"),
    ClaimKind.UPFRONT: _("Payout up front"),
}
CLAIM_STATUS_LABELS = {
    ClaimStatus.SUBMITTED: _("Waiting for the caseworker"),
    ClaimStatus.NEEDS_INFO: _("More information needed"),
    ClaimStatus.APPROVED: _("Approved"),
    ClaimStatus.LOWERED: _("Approved at a lower amount"),
    ClaimStatus.REJECTED: _("Rejected"),
    ClaimStatus.PAID: _("Paid"),
}
BATCH_STATUS_LABELS = {
    BatchStatus.OPEN: _("Open"),
    BatchStatus.EXPORTED: _("Exported to the finance system (locked)"),
    BatchStatus.PAID: _("Paid"),
}
CLAIM_FLAG_LABELS = {
    ClaimFlag.SAME_FILE: _("The same file was sent with another claim"),
    ClaimFlag.SAME_RECEIPT: _("Another claim has the same supplier, date and amount"),
    ClaimFlag.OUTSIDE_PERIOD: _("Dated outside the project period"),
    ClaimFlag.LINE_OVER_BUDGET: _("The budget line is over budget"),
}
WAITING_FOR_LABELS = {
    WaitingFor.US: _("Waiting for us"),
    WaitingFor.GRANTEE: _("Waiting for the grantee"),
}

grant_status_label = enum_label(GrantStatus, GRANT_STATUS_LABELS, "A grant's status in plain words.")
payout_mode_label = enum_label(PayoutMode, PAYOUT_MODE_LABELS, "A payout mode in plain words.")
payee_type_label = enum_label(PayeeType, PAYEE_TYPE_LABELS, "A payee type in plain words.")
conditions_channel_label = enum_label(ConditionsChannel, CONDITIONS_CHANNEL_LABELS,
                                      "How the conditions were accepted, in plain words.")
claim_kind_label = enum_label(ClaimKind, CLAIM_KIND_LABELS, "A claim's kind in plain words.")
claim_status_label = enum_label(ClaimStatus, CLAIM_STATUS_LABELS, "A claim's status in plain words.")
batch_status_label = enum_label(BatchStatus, BATCH_STATUS_LABELS, "A payout batch's status in plain words.")
claim_flag_label = enum_label(ClaimFlag, CLAIM_FLAG_LABELS, "A claim's flag in plain words.")
waiting_for_label = enum_label(WaitingFor, WAITING_FOR_LABELS, "Who acts next on a claim, in plain words.")

FILTERS = {
    "grant_status": grant_status_label,
    "payout_mode": payout_mode_label,
    "payee_type": payee_type_label,
    "conditions_channel": conditions_channel_label,
    "claim_kind": claim_kind_label,
    "claim_status": claim_status_label,
    "batch_status": batch_status_label,
    "claim_flag": claim_flag_label,
    "waiting_for": waiting_for_label,
}

#: Plain words for the audit trail's grant actions.
ACTION_LABELS = {
    "grant.create": _("Grant made"),
    "grant.payout_mode": _("Payout mode changed"),
    "grant.conditions": _("Grant conditions accepted"),
    "grant.child_certificate": _("Børneattest recorded"),
    "grant.deadline": _("Project deadline moved"),
    "grant.hold": _("Grant put on hold"),
    "grant.resume": _("Grant resumed"),
    "grant.stop": _("Grant stopped, the remainder back in the pot"),
    "grant.complete": _("Grant completed, the remainder back in the pot"),
    "grant.repayment": _("Money paid back by the grantee"),
    "grant.paid": _("Payout recorded in the grant's ledger"),
    "grant.follow_up_needed": _("Follow-up talk marked as needed"),
    "grant.follow_up_book": _("Follow-up talk booked"),
    "grant.follow_up_notes": _("Notes of a follow-up talk written"),
    "claim.submit": _("Expense claim sent"),
    "claim.answer": _("Requested information sent"),
    "claim.decision": _("Decision on an expense claim"),
    "claim.withdrawn": _("Approval withdrawn because the grant was stopped: the claim is not paid"),
    "batch.create": _("Payout batch created"),
    "batch.add": _("Claims added to a payout batch"),
    "batch.remove": _("Claim taken out of a payout batch"),
    "batch.export": _("Payout batch exported to the finance system"),
    "batch.paid": _("Payout batch marked as paid"),
}

#: What each kind of grants object is called in the trail.
OBJECT_LABELS = {
    "grant": _("Grant"),
    "expense_claim": _("Expense claim"),
    "payout_batch": _("Payout batch"),
    "follow_up_talk": _("Follow-up talk"),
}

#: Per object type, what each recorded field is called.
FIELD_LABELS = {
    "grant": {
        "amount_ore": _("Granted (kr.)"), "payout_mode": _("Payout mode"), "status": _("Status"),
        "approved_ore": _("Approved in all (kr.)"), "paid_ore": _("Paid in all (kr.)"),
        "repaid_ore": _("Paid back in all (kr.)"), "released_ore": _("Back in the pot (kr.)"),
        "deadline": _("Project deadline"), "conditions_accepted_at": _("Conditions accepted"),
        "conditions_channel": _("Conditions accepted how"),
        "child_certificate_required": _("Børneattest required"),
        "child_certificate_received_on": _("Børneattest received"),
        "follow_up_needed": _("Follow-up talk needed"), "hold_reason": _("Reason for the hold"),
        "stop_reason": _("Reason for stopping"), "application_id": _("Application no."),
        "budget": _("Budget"), "repayment_ore": _("Paid back (kr.)"), "batch_id": _("Payout batch no."),
        "approved_still_paid": _("Approved claims not paid yet are still paid"),
        "withdrawn_ore": _("Approvals withdrawn (kr.)"),
    },
    "expense_claim": {
        "status": _("Status"), "amount_ore": _("Claimed (kr.)"), "approved_ore": _("Approved (kr.)"),
        "budget_line_id": _("Budget line no."), "spent_on": _("Date of the expense"), "kind": _("Kind"),
        "supplier_name": _("Supplier"), "supplier_cvr": _("Supplier's CVR"),
        "supplier_address": _("Supplier's address"), "reason": _("Reason"),
        "info_request": _("Information asked for"), "info_answer": _("Answer"),
        "grant_id": _("Grant no."), "grant_approved_ore": _("Approved of the grant in all (kr.)"),
        "on_paper": _("Handed in on paper"), "files": _("Files (checksums)"), "flags": _("Flags"),
        "withdrawn_ore": _("Approval withdrawn (kr.)"),
    },
    "payout_batch": {
        "status": _("Status"), "claims": _("Claims (no.)"), "total_ore": _("Total (kr.)"),
    },
    "follow_up_talk": {
        "grant_id": _("Grant no."), "at": _("Time"), "place": _("Place"), "notes": _("Notes"),
        "follow_up_needed": _("Follow-up talk needed"),
    },
}

_MONEY_FIELDS = {"amount_ore", "approved_ore", "paid_ore", "repaid_ore", "released_ore", "repayment_ore",
                 "grant_approved_ore", "total_ore", "withdrawn_ore"}
#: Per object type, the template filter that shows a field's values in plain words.
VALUE_FILTERS = {
    "grant": {"status": "grant_status", "payout_mode": "payout_mode", "conditions_channel": "conditions_channel",
              **{k: "money" for k in _MONEY_FIELDS}},
    "expense_claim": {"status": "claim_status", "kind": "claim_kind", **{k: "money" for k in _MONEY_FIELDS}},
    "payout_batch": {"status": "batch_status", "total_ore": "money"},
}


def init_app(app: Flask) -> None:
    """Register the grants domain's label filters (called by the app factory)."""
    register_filters(app, FILTERS)
