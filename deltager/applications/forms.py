"""Forms of the application road: the application itself, screening and decisions."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from deltager.applications.models import ApplicantType, ApplicationStatus, ChildCertificate
from deltager.applications.labels import CHILD_CERTIFICATE_LABELS
from deltager.applications.services import ApplicationInput, ScreeningInput, valid_cvr
from deltager.errors import ValidationFailed
from deltager import uploads
from deltager.forms import BaseForm, LocalDateField, MoneyField, no_control_characters
from deltager.web import translate_error

BUDGET_ROWS = 6


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _digits_only(value: Any) -> Any:
    return "".join(value.split()) if isinstance(value, str) else value


def _text(label: Any, max_length: int, description: Any = None, area: bool = False) -> Any:
    cls = TextAreaField if area else StringField
    return cls(label, description=description,
               validators=[Optional(), Length(max=max_length), no_control_characters])


class BudgetLineForm(Form):
    """One row of the budget; an empty row is ignored."""

    description = StringField(_("What for"), filters=[_strip],
                              validators=[Optional(), Length(max=200), no_control_characters])
    amount = MoneyField(_("Amount (kr.)"), filters=[_strip])


def _cvr_check(form: Any, field: Any) -> None:
    if field.data and not valid_cvr(field.data):
        raise ValidationError(gettext(
            "The CVR number is not valid. It has 8 digits; check that you typed it correctly."
        ))


class ApplicationForm(BaseForm):
    title = _text(_("Title of the project"), 80, _("Short and clear, at most 80 characters."))
    summary = _text(_("Short summary"), 300, _("Two or three sentences, at most 300 characters. "
                                                 "This is shown on the ballot."), area=True)
    what = _text(_("What will you do?"), 4000, area=True)
    for_whom = _text(_("Who is it for?"), 4000, area=True)
    where = _text(_("Where will it happen?"), 2000, area=True)
    when = _text(_("When will it happen?"), 2000, area=True)
    applicant_type = RadioField(
        _("Who applies?"), choices=[SelectChoice(ApplicantType.PERSON.value, _("I apply as a private person")),
                                    SelectChoice(ApplicantType.ASSOCIATION.value, _("We apply as an association"))],
        default=ApplicantType.PERSON.value, validate_choice=False,
    )
    association_name = _text(_("Name of the association"), 200)
    cvr = StringField(_("CVR number of the association"), description=_("8 digits."),
                      filters=[_digits_only], validators=[Optional(), Length(max=20), _cvr_check])
    contact_name = _text(_("Your name"), 120)
    contact_phone = _text(_("Phone number"), 40)
    contact_address = _text(_("Address (optional)"), 200)
    requested = MoneyField(_("Amount you apply for (kr.)"), description=_("For example 25.000."))
    budget = FieldList(FormField(BudgetLineForm), label=_("Budget"), min_entries=BUDGET_ROWS, max_entries=20)
    involves_children = RadioField(
        _("Do children or young people under 18 take part?"),
        choices=[SelectChoice("yes", _("Yes")), SelectChoice("no", _("No"))], validate_choice=False,
    )
    photo = FileField(_("Photo (optional)"), description=_("A JPEG or PNG picture of at most 5 MB. "
                                                           "It is shown on the ballot."))
    remove_photo = BooleanField(_("Remove the current photo"))
    consent = BooleanField(_("I have read the privacy notice and agree that the municipality "
                             "handles the information in this application."))

    #: The uploaded photo, checked and re-encoded by ``validate_photo`` (None: no new photo).
    processed_photo: uploads.ProcessedImage | None = None

    def to_input(self) -> ApplicationInput:
        """The form's data as a service input (empty budget rows are left out)."""
        lines = tuple(
            (row.form.description.data or "", row.form.amount.data or 0)
            for row in self.budget
            if (row.form.description.data or row.form.amount.data)
        )
        return ApplicationInput(
            title=self.title.data or "", summary=self.summary.data or "", what=self.what.data or "",
            for_whom=self.for_whom.data or "", where=self.where.data or "", when=self.when.data or "",
            applicant_type=(ApplicantType.ASSOCIATION if self.applicant_type.data == "association"
                            else ApplicantType.PERSON),
            association_name=self.association_name.data or "", cvr=self.cvr.data or "",
            contact_name=self.contact_name.data or "", contact_phone=self.contact_phone.data or "",
            contact_address=self.contact_address.data or "",
            requested_ore=self.requested.data, budget_lines=lines,
            involves_children={"yes": True, "no": False}.get(self.involves_children.data or ""),
            consent=bool(self.consent.data), photo=self.processed_photo, remove_photo=bool(self.remove_photo.data),
        )

    def validate_photo(self, field: Any) -> None:
        """Check the upload and re-encode it (deltager.uploads), here rather than in the service: it
        takes up to half a second, and the view writes only after the form is valid (reads_first),
        so no write lock is held meanwhile. The view is marked ``uploads.accepts``."""
        try:
            self.processed_photo = uploads.receive(uploads.PHOTO, field.data)
        except ValidationFailed as error:
            raise ValidationError(translate_error(error)) from error

    def validate_budget(self, field: Any) -> None:
        for row in field:
            if bool(row.form.description.data) != bool(row.form.amount.data) and not row.form.amount.errors:
                raise ValidationError(gettext("Fill in both what for and the amount on each budget line you use."))

    def fill_from(self, application: Any) -> None:
        """Show a saved application in the form."""
        for name in ApplicationInput.TEXT_LIMITS:
            self[name].data = getattr(application, name)
        self.cvr.data = application.cvr
        self.applicant_type.data = application.applicant_type.value
        self.requested.data = application.requested_ore or None
        self.involves_children.data = {True: "yes", False: "no"}.get(application.involves_children)
        self.consent.data = application.consent_at is not None
        while len(self.budget) > 0:
            self.budget.pop_entry()
        lines = list(application.budget_lines)
        for i in range(max(BUDGET_ROWS, len(lines) + 2)):
            entry = self.budget.append_entry()
            if i < len(lines):
                entry.form.description.data = lines[i].description
                entry.form.amount.data = lines[i].amount_ore


class OnBehalfForm(ApplicationForm):
    applicant_email = StringField(
        _("The citizen's e-mail address (if they have one they read)"),
        description=_("With an address, the citizen gets the receipt and can follow the application with a "
                      "sign-in link. Without one, write a phone number or a postal address below and print a "
                      "receipt with a personal code for the citizen."),
        validators=[Optional(), Length(max=254), no_control_characters],
    )

    #: Staff fill the form in for the citizen: the questions speak of the citizen, not to them.
    THIRD_PERSON = {
        "what": _("What will the citizen do?"),
        "contact_name": _("The citizen's name (or the association's contact person)"),
        "requested": _("Amount the citizen applies for (kr.)"),
        "consent": _("The citizen has heard the privacy notice and agrees that the municipality "
                     "handles the information in this application."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in self.THIRD_PERSON.items():
            self[name].label.text = label
        self.applicant_type.choices = [
            SelectChoice(ApplicantType.PERSON.value, _("The citizen applies as a private person")),
            SelectChoice(ApplicantType.ASSOCIATION.value, _("An association applies")),
        ]


_CHECK_CHOICES = [SelectChoice("", _("Not assessed yet")), SelectChoice("yes", _("Yes")), SelectChoice("no", _("No"))]


def _check(label: Any) -> SelectField:
    return SelectField(label, choices=_CHECK_CHOICES, validate_choice=False)


class ScreeningForm(BaseForm):
    fits_theme = _check(_("Fits the theme"))
    budget_plausible = _check(_("The budget is plausible"))
    eligible_applicant = _check(_("The applicant is eligible"))
    child_certificate = SelectField(
        _("Børneattest"),
        choices=[SelectChoice(state.value, label) for state, label in CHILD_CERTIFICATE_LABELS.items()],
        validate_choice=False,
    )
    child_certificate_received_on = LocalDateField(_("Børneattest received on"), validators=[Optional()])
    screening_notes = TextAreaField(_("Internal notes"), description=_("Only staff see these."),
                                    validators=[Optional(), Length(max=10_000), no_control_characters])

    def to_input(self) -> ScreeningInput:
        """The checklist as the service takes it (an unknown børneattest state: not assessed)."""
        try:
            cert = ChildCertificate(self.child_certificate.data)
        except ValueError:
            cert = ChildCertificate.NOT_ASSESSED
        return ScreeningInput(
            fits_theme=yes_no(self.fits_theme.data), budget_plausible=yes_no(self.budget_plausible.data),
            eligible_applicant=yes_no(self.eligible_applicant.data), child_certificate=cert,
            child_certificate_received_on=self.child_certificate_received_on.data,
            screening_notes=self.screening_notes.data or "",
        )

    def fill_from(self, application: Any) -> None:
        """Show the application's checklist as saved."""
        to_choice = {True: "yes", False: "no", None: ""}
        self.fits_theme.data = to_choice[application.fits_theme]
        self.budget_plausible.data = to_choice[application.budget_plausible]
        self.eligible_applicant.data = to_choice[application.eligible_applicant]
        self.child_certificate.data = application.child_certificate.value
        self.child_certificate_received_on.data = application.child_certificate_received_on
        self.screening_notes.data = application.screening_notes


class DecisionForm(BaseForm):
    decision = RadioField(
        _("Decision"),
        choices=[SelectChoice("on_ballot", _("On the ballot")), SelectChoice("needs_info", _("More information needed")),
                 SelectChoice("rejected", _("Rejected"))],
        validate_choice=False,
    )
    message = TextAreaField(
        _("Message to the applicant"),
        description=_("Required for “more information needed” and “rejected”. The applicant gets it by e-mail."),
        validators=[Optional(), Length(max=5000), no_control_characters],
    )

    def validate_decision(self, field: Any) -> None:
        """One of the statuses (the service says which it accepts)."""
        try:
            self.status = ApplicationStatus(field.data or "")
        except ValueError:
            raise ValidationError(gettext("Choose a decision.")) from None


def yes_no(value: str | None) -> bool | None:
    """"yes" → True, "no" → False, anything else → None."""
    return {"yes": True, "no": False}.get(value or "")


#: The caseworker's history of an application: what each recorded field is called.
HISTORY_LABELS = {
    "status": _("Status"),
    "title": _("Title of the project"),
    "summary": _("Short summary"),
    "requested_ore": _("Amount applied for"),
    "applicant_type": _("Who applies?"),
    "association_name": _("Name of the association"),
    "cvr": _("CVR number of the association"),
    "involves_children": _("Children or young people under 18 take part"),
    "budget": _("Budget"),
    "has_photo": _("Photo"),
    "stand_number": _("Stand number"),
    "message": _("Message to the applicant"),
    "fits_theme": _("Fits the theme"),
    "budget_plausible": _("The budget is plausible"),
    "eligible_applicant": _("The applicant is eligible"),
    "child_certificate": _("Børneattest"),
    "child_certificate_received_on": _("Børneattest received on"),
    "screening_notes": _("Internal notes"),
}
HISTORY_VALUE_FILTERS = {
    "status": "application_status_staff",
    "applicant_type": "applicant_type",
    "child_certificate": "child_certificate",
    "budget": "budget_lines",
}
