"""The citizens' sign-in forms: ask for a link by e-mail, or type the reference and personal code."""

from __future__ import annotations

from flask_babel import lazy_gettext as _
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from deltager.forms import BaseForm, no_control_characters, required_message


class SignInForm(BaseForm):
    """Ask for a sign-in link: the e-mail address, and the page to go on to."""

    email = StringField(
        _("Your e-mail address"),
        validators=[DataRequired(required_message()), Length(max=254), no_control_characters],
    )
    next = HiddenField()


class CodeSignInForm(BaseForm):
    """"Se din ansøgning": the reference and personal code from a printed receipt."""

    reference = StringField(
        _("Reference"), description=_("It is on your receipt, for example A-000123."),
        validators=[DataRequired(required_message()), Length(max=20), no_control_characters],
    )
    code = StringField(
        _("Personal code"), description=_("10 letters and digits. Capital or small letters, both work."),
        validators=[DataRequired(required_message()), Length(max=40), no_control_characters],
    )
