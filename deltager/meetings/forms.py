"""Forms for meetings: planning (staff), signing up (citizens), attendance (staff at the door)."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from deltager.forms import BaseForm, LocalDateTimeField, no_control_characters, required_message
from deltager.meetings.labels import KIND_LABELS
from deltager.meetings.services import MAX_CAPACITY, MAX_WALK_INS, RegistrationInput

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()\-]{6,30}$")


def email_address(_form: Any, field: Any) -> None:
    """A plausible e-mail address (the confirmation e-mail proves it)."""
    if field.data and not _EMAIL.match(field.data):
        raise ValidationError(gettext("Enter an e-mail address, for example navn@eksempel.dk."))


def plausible_time(_form: Any, field: Any) -> None:
    """A date-time within this century (the far past and future overflow time-zone arithmetic)."""
    if field.data is not None and not 2000 <= field.data.year <= 2100:
        raise ValidationError(gettext("Enter a date and time, for example 2026-03-01 09:00."))


def phone_number(_form: Any, field: Any) -> None:
    """Digits, spaces, +, - and brackets, e.g. "+45 12 34 56 78"."""
    if field.data and not _PHONE.match(field.data):
        raise ValidationError(gettext("Enter a phone number with digits only, for example 12 34 56 78."))


class MeetingForm(BaseForm):
    kind = SelectField(
        _("Kind of meeting"),
        choices=[SelectChoice(kind.value, label) for kind, label in KIND_LABELS.items()],
        validators=[DataRequired(required_message())],
    )
    title = StringField(
        _("Title"),
        description=_("For example “Få hjælp til din ansøgning i Gellerup”."),
        validators=[DataRequired(required_message()), Length(max=120), no_control_characters],
    )
    place = StringField(
        _("Place"),
        description=_("For example “Beboerhuset Gellerup, mødelokale 2”."),
        validators=[DataRequired(required_message()), Length(max=200), no_control_characters],
    )
    address = StringField(_("Address"), validators=[Optional(), Length(max=200), no_control_characters])
    # DataRequired, not InputRequired: a blank-but-present value (" ") parses to None.
    starts_at = LocalDateTimeField(_("Starts"), validators=[DataRequired(required_message()), plausible_time])
    ends_at = LocalDateTimeField(_("Ends"), validators=[DataRequired(required_message()), plausible_time])
    capacity = IntegerField(
        _("Number of seats"),
        description=_("Leave empty if there is no limit."),
        validators=[Optional(), NumberRange(min=1, max=MAX_CAPACITY)],
    )
    description = TextAreaField(
        _("What happens at the meeting"), validators=[Optional(), Length(max=5000), no_control_characters]
    )


class SignUpForm(BaseForm):
    name = StringField(
        _("Your name"), validators=[DataRequired(required_message()), Length(max=120), no_control_characters]
    )
    email = StringField(
        _("Your e-mail"),
        description=_("We send you a confirmation with a link to cancel."),
        validators=[DataRequired(required_message()), Length(max=254), no_control_characters, email_address],
    )
    phone = StringField(
        _("Phone (if you like)"), validators=[Optional(), Length(max=40), no_control_characters, phone_number]
    )
    note = TextAreaField(
        _("Anything we should know?"),
        description=_("For example if you need an interpreter, or help with access."),
        validators=[Optional(), Length(max=2000), no_control_characters],
    )
    consent = BooleanField(
        _("I have read how we use my information, and I agree."),
        validators=[DataRequired(_("Please tick the box so we may keep your sign-up."))],
    )

    def to_input(self, language: str) -> RegistrationInput:
        """The sign-up as the service takes it; the citizen reads their e-mails in ``language``."""
        return RegistrationInput(name=self.name.data or "", email=self.email.data or "", phone=self.phone.data or "",
                                 note=self.note.data or "", language=language)


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes; ``data`` is a list of ints."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AttendanceForm(BaseForm):
    attended = MultiCheckboxField(_("Who came"), coerce=int, choices=[], validate_choice=True)
    walk_ins = IntegerField(
        _("People who came without signing up"),
        default=0,
        validators=[InputRequired(required_message()), NumberRange(min=0, max=MAX_WALK_INS)],
    )


class StaffSignUpForm(BaseForm):
    """Staff sign up a citizen who has no e-mail (at a help meeting, on the phone)."""

    name = StringField(
        _("The citizen's name"), validators=[DataRequired(required_message()), Length(max=120), no_control_characters]
    )
    phone = StringField(
        _("Phone number"), validators=[Optional(), Length(max=40), no_control_characters, phone_number]
    )
    address = StringField(
        _("Postal address"), description=_("A phone number or a postal address is needed: staff use it if the meeting changes."),
        validators=[Optional(), Length(max=200), no_control_characters],
    )
    note = TextAreaField(
        _("Anything we should know?"),
        description=_("For example if they need an interpreter, or help with access."),
        validators=[Optional(), Length(max=2000), no_control_characters],
    )
    consent = BooleanField(
        _("The citizen has heard how we use their information, and agrees."),
        validators=[DataRequired(_("Please tick the box so we may keep your sign-up."))],
    )


#: The meeting fields of the audit trail, named as on the meeting form.
HISTORY_LABELS = {
    "kind": _("Kind of meeting"),
    "title": _("Title"),
    "place": _("Place"),
    "address": _("Address"),
    "description": _("What happens at the meeting"),
    "starts_at": _("Starts"),
    "ends_at": _("Ends"),
    "capacity": _("Number of seats"),
    "cancelled_at": _("Cancelled"),
}
