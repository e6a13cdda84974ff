"""Sign-in and user-management forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from deltager.forms import BaseForm, no_control_characters, required_message
from deltager.permissions import Role

ROLE_LABELS = {
    Role.ADMIN: _("Administrator"),
    Role.CASEWORKER: _("Caseworker"),
    Role.MEETING_STAFF: _("Meeting staff"),
    Role.VIEWER: _("Viewer (management)"),
}


class LoginForm(BaseForm):
    email = StringField(_("E-mail"), validators=[DataRequired(required_message()), Length(max=254)])
    password = PasswordField(_("Password"), validators=[DataRequired(required_message()), Length(max=1000)])
    next = HiddenField()


def _role_field() -> SelectField:
    return SelectField(
        _("Role"),
        choices=[SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()],
        validators=[DataRequired(required_message())],
    )


class UserForm(BaseForm):
    name = StringField(
        _("Name"), validators=[DataRequired(required_message()), Length(max=120), no_control_characters]
    )
    role = _role_field()


class NewUserForm(UserForm):
    email = StringField(_("E-mail"), validators=[DataRequired(required_message()), Length(max=254)])
    password = PasswordField(
        _("Password"),
        description=_("At least 12 characters. Give it to the person in a safe way."),
        validators=[DataRequired(required_message()), Length(max=1000)],
    )


class PasswordResetForm(BaseForm):
    password = PasswordField(
        _("New password"),
        description=_("At least 12 characters. The user's current sessions end."),
        validators=[DataRequired(required_message()), Length(max=1000)],
    )
