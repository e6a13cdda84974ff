"""Parsing amounts the way people type them in Denmark."""

from __future__ import annotations

import pytest

from deltager.errors import ValidationFailed
from deltager.money import format_ore_input, parse_kroner, tidy_periods


@pytest.mark.parametrize(
    ("text", "ore"),
    [
        ("25.000", 2_500_000), ("25000", 2_500_000), ("25.000 kr.", 2_500_000), ("25.000 kr", 2_500_000),
        ("25 000", 2_500_000), (" 1.234,50 ", 123_450), ("1234,5", 123_450), ("0,01", 1), ("200.000 DKK", 20_000_000),
        ("7", 700),
    ],
)
def test_accepts(text: str, ore: int) -> None:
    assert parse_kroner(text) == ore


@pytest.mark.parametrize(
    "text",
    ["", "  ", "-1", "+5", "1e9", "NaN", "inf", "25.000,505", "25,000.50", "2.50", "25.00", "1.2345", "abc",
     "25.000 euro", "٣٣", "１２", "0x10", "1_000", "10" * 20, None],
)
def test_refuses(text: str | None) -> None:
    with pytest.raises(ValidationFailed):
        parse_kroner(text)


def test_input_format_round_trips() -> None:
    for ore in [0, 1, 99, 100, 2_500_000, 123_456_789]:
        assert parse_kroner(format_ore_input(ore)) == ore


def test_one_period_after_an_amount_that_ends_a_sentence() -> None:
    assert tidy_periods("Du kan søge op til 25.000 kr.. Sidste frist") == "Du kan søge op til 25.000 kr. Sidste frist"
    assert tidy_periods("hævet til 6.476 kr..") == "hævet til 6.476 kr."
    assert tidy_periods("25.000 kr. og 3 kr...") == "25.000 kr. og 3 kr..."  # an ellipsis stays
