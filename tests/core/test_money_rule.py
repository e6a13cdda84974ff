"""The one documented rule for Danish amounts (deltager.money): a comma before øre, a point for thousands."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import gettext

from deltager.errors import DomainError
from deltager.money import parse_kroner


@pytest.mark.parametrize(
    ("text", "ore"),
    [("1.234,50", 123_450), ("1234,50", 123_450), ("1234", 123_400), ("1.234", 123_400), ("1.234.567,89", 123_456_789)],
)
def test_the_danish_way_is_read(text: str, ore: int) -> None:
    assert parse_kroner(text) == ore


@pytest.mark.parametrize("text", ["1234.5", "1,234.50", "1234.50", "25,000", "12.5 kr."])
def test_the_english_way_is_refused_with_a_message_that_says_how(text: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_kroner(text)
    assert "1.234,50" in caught.value.message


def test_other_nonsense_gets_the_general_message() -> None:
    with pytest.raises(DomainError) as caught:
        parse_kroner("abc")
    assert "25.000" in caught.value.message


# The issue's own examples (step 4, acceptance 5), and the exact Danish message for the refused ones.
ENGLISH_WAY_DA_MSGID = (
    "Write øre after a comma and thousands with a point, for example 1.234,50 (not 1,234.50 or 1234.5).")
ENGLISH_WAY_DA = "Skriv øre efter et komma og tusinder med punktum, for eksempel 1.234,50 (ikke 1,234.50 eller 1234.5)."


@pytest.mark.parametrize("text", ["1.234,50", "1234,50"])
def test_the_issues_danish_amounts_are_123450_ore(text: str) -> None:
    assert parse_kroner(text) == 123_450


@pytest.mark.parametrize("text", ["1234.5", "1,234.50"])
def test_the_issues_english_amounts_are_refused_with_the_danish_message(app: Flask, text: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_kroner(text)
    assert caught.value.message == ENGLISH_WAY_DA_MSGID
    with app.test_request_context("/"):  # Danish: the default language
        assert gettext(caught.value.message) == ENGLISH_WAY_DA
