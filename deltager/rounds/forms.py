"""The round form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from deltager.forms import (
    BaseForm,
    LocalDateField,
    LocalDateTimeField,
    MoneyField,
    no_control_characters,
    required_message,
)
from deltager.rounds.services import DEFAULT_CAP_ORE, DEFAULT_FUNDING_SOURCE, DEFAULT_POT_ORE


class RoundForm(BaseForm):
    title = StringField(
        _("Name of the round"),
        description=_("For example “Del dit fællesskab”."),
        validators=[DataRequired(required_message()), Length(max=120), no_control_characters],
    )
    theme = StringField(
        _("Theme"),
        description=_("For example “Udsatte og ensomhed” or “Godt naboskab”."),
        validators=[DataRequired(required_message()), Length(max=120), no_control_characters],
    )
    description = TextAreaField(
        _("Description for citizens"), validators=[Optional(), Length(max=5000), no_control_characters]
    )
    pot = MoneyField(
        _("Pot (kr.)"), default=DEFAULT_POT_ORE, validators=[DataRequired(required_message())]
    )
    cap = MoneyField(
        _("Cap per application (kr.)"), default=DEFAULT_CAP_ORE, validators=[DataRequired(required_message())]
    )
    funding_source = StringField(
        _("Funding source"),
        default=DEFAULT_FUNDING_SOURCE,
        validators=[DataRequired(required_message()), Length(max=120), no_control_characters],
    )
    partners = TextAreaField(
        _("Partner organisations"),
        description=_("One per line."),
        validators=[Optional(), Length(max=2000), no_control_characters],
    )
    applications_open_at = LocalDateTimeField(
        _("Applications open"), validators=[DataRequired(required_message())]
    )
    applications_close_at = LocalDateTimeField(
        _("Applications close"), validators=[DataRequired(required_message())]
    )
    voting_on = LocalDateField(_("Date of the voting meeting"), validators=[DataRequired(required_message())])
    project_deadline = LocalDateField(
        _("Project deadline"),
        description=_("Leave empty for one year after the voting meeting."),
        validators=[Optional()],
    )
    report_deadline = LocalDateField(
        _("Report deadline"),
        description=_("Leave empty for 30 days after the project deadline."),
        validators=[Optional()],
    )


#: The round's history: what each recorded field is called (as on the form).
HISTORY_LABELS = {
    "title": _("Name of the round"),
    "theme": _("Theme"),
    "description": _("Description for citizens"),
    "pot_ore": _("Pot (kr.)"),
    "cap_ore": _("Cap per application (kr.)"),
    "funding_source": _("Funding source"),
    "partners": _("Partner organisations"),
    "applications_open_at": _("Applications open"),
    "applications_close_at": _("Applications close"),
    "voting_on": _("Date of the voting meeting"),
    "project_deadline": _("Project deadline"),
    "report_deadline": _("Report deadline"),
    "status": _("Status"),
}
