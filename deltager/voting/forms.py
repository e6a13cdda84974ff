"""Forms of the voting meeting: ballot rules, stands, cards, paper ballots, voiding, door count."""

from __future__ import annotations

from flask_babel import lazy_gettext as _
from flask_wtf.file import FileField
from wtforms import IntegerField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from deltager.forms import BaseForm, no_control_characters, required_message
from deltager.voting.labels import RULE_LABELS, TIE_BREAK_LABELS
from deltager.voting.models import TieBreak
from deltager.voting.services import MAX_CARDS_PER_BATCH, MAX_CHOICES

#: The vote's fields in a voting meeting's history (VoteSettings.audit_snapshot), and the template
#: filters that show their values (deltager.voting.labels).
HISTORY_LABELS = {
    "min_choices": _("Fewest projects per ballot"),
    "max_choices": _("Most projects per ballot"),
    "rule": _("Allocation rule"),
    "tie_break": _("Tie-break"),
    "state": _("The vote"),
    "door_count": _("Head count at the door"),
}
HISTORY_VALUE_FILTERS = {"state": "vote_state", "rule": "vote_rule", "tie_break": "vote_tie_break"}


def _whole_number(label: str, low: int, high: int) -> IntegerField:
    return IntegerField(
        label,
        validators=[InputRequired(required_message()), NumberRange(min=low, max=high)],
        render_kw={"inputmode": "numeric"},
    )


class SettingsForm(BaseForm):
    min_choices = _whole_number(_("Fewest projects per ballot"), 1, MAX_CHOICES)
    max_choices = _whole_number(_("Most projects per ballot"), 1, MAX_CHOICES)
    rule = RadioField(
        _("Allocation rule"), choices=[SelectChoice(k.value, v) for k, v in RULE_LABELS.items()],
        validators=[InputRequired(required_message())],
    )
    tie_break = RadioField(
        _("When projects have the same number of votes"),
        choices=[SelectChoice(k.value, v) for k, v in TIE_BREAK_LABELS.items()],
        validators=[InputRequired(required_message())],
    )


class IssueCardsForm(BaseForm):
    count = _whole_number(_("Number of cards"), 1, MAX_CARDS_PER_BATCH)
    format = RadioField(
        _("Download as"),
        choices=[SelectChoice("pdf", _("PDF to print (8 cards per A4 sheet)")),
                 SelectChoice("csv", _("CSV for a print shop (serial and URL)"))],
        default="pdf",
        validators=[InputRequired(required_message())],
    )


class SerialForm(BaseForm):
    serial = StringField(
        _("Card number"),
        description=_("The number printed on the card, for example 0042."),
        validators=[InputRequired(required_message()), Length(max=20), no_control_characters],
    )


class DoorCountForm(BaseForm):
    door_count = _whole_number(_("People counted at the door"), 0, 1_000_000)


class CompareForm(BaseForm):
    pb_file = FileField(_("A .pb file (Pabulib)"))
    meeting_id = SelectField(_("Or the ballots of a closed voting meeting"), coerce=str, validators=[Optional()])
    tie_break = SelectField(
        _("Tie-break"), choices=[SelectChoice(k.value, v) for k, v in TIE_BREAK_LABELS.items() if k is not TieBreak.LOTTERY],
        default=TieBreak.ID.value,
    )
