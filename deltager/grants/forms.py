"""The grants' forms: a grantee's receipt and answer, and the caseworker's decisions on claims and grants."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from deltager.forms import (
    BaseForm, LocalDateField, LocalDateTimeField, MoneyField, OnceForm, no_control_characters, required_message,
)
from deltager.grants.claims import ClaimInput, Decision
from deltager.grants.models import ClaimKind, GrantBudgetLine


#: The stop form's choices about approved receipts not yet paid.
WITHDRAW, PAY = "withdraw", "pay"


def _required() -> Any:
    return InputRequired(message=required_message())


class ClaimForm(OnceForm):
    """"Send a receipt": what was bought, when, for how much, on which budget line, and who is paid.

    Supplier name and CVR are shown always (no JavaScript needed) and required only for an
    invoice; the service says so in Danish when they are missing."""

    amount = MoneyField(_("Amount in kroner"), validators=[_required()],
                        description=_("For example 1.234,50"))
    spent_on = LocalDateField(_("Date on the receipt"), validators=[_required()])
    description = TextAreaField(_("What did you buy?"), validators=[_required(), Length(max=2000), no_control_characters],
                                description=_("For example: Coffee and cake for the first meeting"))
    budget_line_id = SelectField(_("Which part of the budget?"), coerce=int, validators=[_required()])
    kind = RadioField(_("Who should get the money?"), validators=[_required()], choices=[
        SelectChoice(ClaimKind.REIMBURSE.value, _("I paid. Pay the money back to me.")),
        SelectChoice(ClaimKind.INVOICE.value, _("I have a bill. Pay the shop.")),
    ], default=ClaimKind.REIMBURSE.value)
    supplier_name = StringField(_("Name of the shop"), validators=[Optional(), Length(max=200), no_control_characters])
    supplier_cvr = StringField(_("CVR number of the shop"), validators=[Optional(), Length(max=8)],
                               description=_("8 digits. You find it on the bill."))
    supplier_address = StringField(_("Address of the shop"), validators=[Optional(), Length(max=200), no_control_characters],
                                   description=_("Street, number, postcode and town, as on the bill."))

    def set_lines(self, lines: list[GrantBudgetLine]) -> None:
        """The grant's budget lines as the choices."""
        self.budget_line_id.choices = [SelectChoice(line.id, line.description) for line in lines]

    def to_input(self) -> ClaimInput:
        """The service's input."""
        return ClaimInput(
            budget_line_id=self.budget_line_id.data, amount_ore=self.amount.data or 0, spent_on=self.spent_on.data,
            description=self.description.data or "", kind=ClaimKind(self.kind.data),
            supplier_name=self.supplier_name.data or "", supplier_cvr=(self.supplier_cvr.data or "").replace(" ", ""),
            supplier_address=self.supplier_address.data or "",
        )


class AnswerForm(OnceForm):
    """"Here is what you asked for": text and optional files."""

    answer = TextAreaField(_("Your answer"), validators=[Optional(), Length(max=4000), no_control_characters])


class DecisionForm(BaseForm):
    """The caseworker's decision on a claim."""

    decision = RadioField(_("Decision"), validators=[_required()], choices=[
        SelectChoice(Decision.APPROVE.value, _("Approve in full")),
        SelectChoice(Decision.LOWER.value, _("Approve a lower amount (write the reason)")),
        SelectChoice(Decision.REJECT.value, _("Reject (write the reason)")),
        SelectChoice(Decision.ASK_INFO.value, _("Ask the grantee for more information (write what you need)")),
    ])
    approved_amount = MoneyField(_("Lower amount in kroner"), validators=[Optional()])
    reason = TextAreaField(_("Reason or question to the grantee"), validators=[Optional(), Length(max=4000),
                                                                               no_control_characters],
                           description=_("The grantee reads this in the e-mail and on their page."))


class ReasonForm(BaseForm):
    """A reason the grantee is told (hold, stop)."""

    reason = TextAreaField(_("Reason"), validators=[DataRequired(message=required_message()), Length(max=4000),
                                                    no_control_characters],
                           description=_("The grantee is told the reason by e-mail."))


class StopForm(ReasonForm):
    """Stop a grant: the reason, and whether approved receipts not yet paid are still paid. The
    choices' words name the amount (:meth:`set_unpaid`); the default sends everything unpaid back."""

    approved = RadioField(_("Approved receipts not paid yet"), default=WITHDRAW, choices=[
        SelectChoice(WITHDRAW, _("They are not paid: the money goes back to the pot too")),
        SelectChoice(PAY, _("They are still paid (the grantee spent the money in good faith)")),
    ], validators=[Optional()])

    def set_unpaid(self, amount: str) -> None:
        """Name the amount of the approved receipts not yet paid in the choices."""
        self.approved.choices = [
            SelectChoice(WITHDRAW, _("They are not paid: %(amount)s goes back to the pot too", amount=amount)),
            SelectChoice(PAY, _("They are still paid: %(amount)s (the grantee spent the money in good faith)",
                                amount=amount)),
        ]

    @property
    def pay_approved(self) -> bool:
        """Whether the caseworker chose that approved receipts not yet paid are still paid."""
        return self.approved.data == PAY


class RepaymentForm(OnceForm):
    """Money the grantee paid back."""

    amount = MoneyField(_("Amount paid back in kroner"), validators=[_required()])
    received_on = LocalDateField(_("Received on"), validators=[_required()])
    note = StringField(_("Note"), validators=[Optional(), Length(max=500), no_control_characters])


class CertificateForm(BaseForm):
    """The børneattest (or the association's declaration) received."""

    received_on = LocalDateField(_("Børneattest received on"), validators=[_required()])


class TalkForm(OnceForm):
    """Book a follow-up talk."""

    at = LocalDateTimeField(_("Date and time"), validators=[_required()])
    minutes = IntegerField(_("Length in minutes"), default=60, validators=[_required(), NumberRange(15, 480)])
    place = StringField(_("Place"), validators=[Optional(), Length(max=200), no_control_characters])


class NotesForm(BaseForm):
    """The notes of a follow-up talk."""

    notes = TextAreaField(_("Notes from the talk"), validators=[DataRequired(message=required_message()),
                                                                Length(max=8000), no_control_characters])


class PotForm(BaseForm):
    """Grant returned money to the next project (its application)."""

    application_id = HiddenField(validators=[DataRequired()])
