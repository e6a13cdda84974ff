"""Form fields and validators shared by every domain: money, local date-times, clean text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import Field, StringField
from wtforms.validators import ValidationError

from deltager.errors import ValidationFailed
from deltager.money import format_ore_input, parse_kroner

_ = lazy_gettext


class BaseForm(FlaskForm):
    """Every form: CSRF from Flask-WTF, and text fields stripped of surrounding whitespace."""

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
            filters = list(unbound_field.kwargs.get("filters", []))
            if issubclass(unbound_field.field_class, StringField):
                filters.append(_strip)
            return unbound_field.bind(form=form, filters=filters, **options)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def no_control_characters(_form: Any, field: Field) -> None:
    """Refuse text with control characters (other than line breaks and tabs)."""
    if isinstance(field.data, str) and any(
        ord(ch) < 32 and ch not in "\n\r\t" or ord(ch) == 127 for ch in field.data
    ):
        raise ValidationError(gettext("The text contains characters that are not allowed."))


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
                self.data = _plausible(dt.datetime.strptime(text, fmt))
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
            self.data = _plausible(dt.date.fromisoformat(text))
        except ValueError as error:
            raise ValueError(gettext("Enter a date, for example 2026-03-01.")) from error


def _plausible(value: Any) -> Any:
    """Refuse years no municipal round will use (and that time-zone arithmetic cannot handle)."""
    if not 2000 <= value.year <= 2100:
        raise ValueError("year out of range")
    return value


def error_texts(errors: Any) -> list[str]:
    """A field's own error messages as text, for the error summary. WTForms' messages may be lazy
    strings; a list of rows (FieldList) nests its rows' errors as lists or dicts, left out here."""
    return [str(e) for e in errors if not isinstance(e, list | tuple | dict)]


def required_message() -> Any:
    """The one wording for a missing required field."""
    return _("This field is required.")
