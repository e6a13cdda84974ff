"""Form fields and validators shared by every domain: money, local date-times, clean text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import Field, FieldList, FormField, HiddenField, IntegerField, StringField
from wtforms.validators import StopValidation, ValidationError

from deltager.errors import ValidationFailed
from deltager.money import format_ore_input, parse_kroner
from deltager.submissions import clean_key, new_key

_ = lazy_gettext


class CleanInputMeta:
    """How every form of ours binds its fields: no field takes a NUL character, text is stripped.

    A form (or a sub-form of rows) gets this through ``BaseForm`` or ``class Meta(CleanInputMeta)``.
    """

    def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
        """Add the shared filters to the field's own."""
        if issubclass(unbound_field.field_class, (FormField, FieldList)):  # their rows are forms of their own
            return unbound_field.bind(form=form, **options)
        filters = [*unbound_field.kwargs.get("filters", []), _no_nul]
        if issubclass(unbound_field.field_class, StringField):
            filters.append(_strip)
        if issubclass(unbound_field.field_class, IntegerField):
            options = {**options, "validators": [_not_huge, *unbound_field.kwargs.get("validators", [])]}
        return unbound_field.bind(form=form, filters=filters, **options)


class BaseForm(FlaskForm):
    """Every form: CSRF from Flask-WTF, no NUL characters, text fields stripped of surrounding whitespace."""

    class Meta(CleanInputMeta):
        pass


def _no_nul(value: Any) -> Any:
    """Refuse a NUL character in any field: no person types one, and PostgreSQL cannot store or
    compare it in text (a sign-in with one in the e-mail was a 500). The form shows the error."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(gettext("The text contains characters that are not allowed."))
    return value


#: The largest whole number a form takes: beyond any count of ours, and within a database integer.
LARGEST_NUMBER = 2**31 - 1


def _not_huge(_form: Any, field: Field) -> None:
    """Stop a number no column can hold before the other validators see it: WTForms' NumberRange
    cannot even compare a 400-digit one (an OverflowError, a 500)."""
    if isinstance(field.data, int) and abs(field.data) > LARGEST_NUMBER:
        field.data = None
        raise StopValidation(gettext("Enter a smaller number."))


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def no_control_characters(_form: Any, field: Field) -> None:
    """Refuse text with control characters (other than line breaks and tabs)."""
    if isinstance(field.data, str) and any(
        ord(ch) < 32 and ch not in "\n\r\t" or ord(ch) == 127 for ch in field.data
    ):
        raise ValidationError(gettext("The text contains characters that are not allowed."))


class ConfirmForm(BaseForm):
    """A form with nothing but its CSRF token, for buttons that change state."""


class SubmissionKeyField(HiddenField):
    """The hidden random key of one submission (deltager.submissions): a fresh one when the form
    is shown, the one sent when it comes back (shown again after a refusal, it keeps it). ``data``
    is None when no key of ours was sent: the form is then taken as new."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", new_key)
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = clean_key(valuelist[0]) if valuelist else None

    def _value(self) -> str:
        return self.data or ""


class OnceForm(BaseForm):
    """A form that creates something: sent twice with the same key, it changes once
    (:func:`deltager.work.unit_of_work` writes the key). Render ``{{ form.submission_key }}``
    beside the CSRF token."""

    submission_key = SubmissionKeyField()



class MoneyField(StringField):
    """Kroner as people type them ("25.000", "25000", "25.000 kr."); ``data`` is øre (int) or None."""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return format_ore_input(self.data) if isinstance(self.data, int) else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        if valuelist and str(valuelist[0]).strip():
            try:
                self.data = parse_kroner(str(valuelist[0]))
            except ValidationFailed as error:
                raise ValueError(gettext(error.message)) from error


class LocalDateTimeField(StringField):
    """An ``<input type="datetime-local">`` read as a naive Copenhagen time."""

    widget_input_type = "datetime-local"
    FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {})["type"] = "datetime-local"
        super().__init__(*args, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%Y-%m-%dT%H:%M") if isinstance(self.data, dt.datetime) else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        text = str(valuelist[0]).strip() if valuelist else ""
        if not text:
            return
        for fmt in self.FORMATS:
            try:
                self.data = plausible(dt.datetime.strptime(text, fmt))
                return
            except ValueError:
                continue
        raise ValueError(gettext("Enter a date and time, for example 2026-03-01 09:00."))


class LocalDateField(StringField):
    """An ``<input type="date">``; ``data`` is a date or None."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {})["type"] = "date"
        super().__init__(*args, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if isinstance(self.data, dt.date) else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        text = str(valuelist[0]).strip() if valuelist else ""
        if not text:
            return
        try:
            self.data = plausible(dt.date.fromisoformat(text))
        except ValueError as error:
            raise ValueError(gettext("Enter a date, for example 2026-03-01.")) from error


#: The years any date of ours can fall in. Outside them, time-zone arithmetic overflows (year 1 or
#: 9999 in a date filter was a 500), and no municipal round will use them.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def plausible(value: Any) -> Any:
    """A date or time, refused (ValueError) in years no round of ours uses and time-zone arithmetic cannot handle."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError("year out of range")
    return value


def error_texts(errors: Any) -> list[str]:
    """A field's own error messages as text, for the error summary. WTForms' messages may be lazy
    strings; a list of rows (FieldList) nests its rows' errors as lists or dicts, left out here."""
    return [str(e) for e in errors if not isinstance(e, list | tuple | dict)]


def plausible_date(text: str | None) -> dt.date | None:
    """A date from a query parameter (``2026-03-01``), or None when it is not one or outside our years."""
    try:
        return plausible(dt.date.fromisoformat((text or "").strip()))  # type: ignore[no-any-return]
    except ValueError:
        return None


def required_message() -> Any:
    """The one wording for a missing required field."""
    return _("This field is required.")
