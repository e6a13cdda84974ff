"""Money is an integer number of øre. Parsing what people type, and formatting it Danish-style.

The one rule for an amount typed in kroner (:func:`parse_kroner`), for every form:

- a **comma** separates øre: "1234,50" and "1234,5" are 123.450 øre;
- a **point** (or a space) only groups thousands, in groups of three: "1.234,50" is 123.450 øre,
  "25.000" is 2.500.000 øre, "1234" is 123.400 øre;
- so a point before one or two digits at the end ("1234.5", "12.50") and a comma before three
  digits ("1,234.50", "25,000") are the English way of writing amounts. They are refused with a
  message that says how to write it, never read as something else: "1.234" is one thousand two
  hundred and thirty-four kroner, never one kroner and 23,4 øre.
- An optional "kr", "kr." or "DKK" may follow. Nothing else: no signs, no exponents, no other digits.
"""

from __future__ import annotations

import re

from deltager.errors import N_, ValidationFailed

# Digits with optional Danish thousands dots ("25.000") or spaces ("25 000"), an optional
# ",50" of øre, and an optional "kr"/"kr."/"DKK". Nothing else: no signs, no exponents.
_AMOUNT = re.compile(
    r"""^(?P<kroner>\d{1,3}(?:[.\u00a0 ]\d{3})+|\d+)   # 25.000 | 25 000 | 25000
        (?:,(?P<ore>\d{1,2}))?                           # ,5 | ,50
        \s*(?:kr\.?|dkk)?$""",
    re.VERBOSE | re.IGNORECASE | re.ASCII,  # \d must not match Arabic-Indic or full-width digits
)
# The English way: a decimal point before øre at the end, or a comma that groups thousands.
_ENGLISH = re.compile(r"\d\.\d{1,2}\s*(?:kr\.?|dkk)?$|\d,\d{3}(?:\D|$)", re.IGNORECASE | re.ASCII)
MAX_ORE = 10**13  # 100 mia. kr.: far beyond any pot, small enough for every database integer


def parse_kroner(text: str | None) -> int:
    """Parse an amount typed in kroner ("25.000", "25000", "25.000 kr.", "1.234,50") into øre."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValidationFailed(N_("Enter an amount in kroner, for example 25.000."))
    match = _AMOUNT.match(cleaned)
    if not match and _ENGLISH.search(cleaned):
        raise ValidationFailed(
            N_("Write øre after a comma and thousands with a point, for example 1.234,50 (not 1,234.50 or 1234.5).")
        )
    if not match:
        raise ValidationFailed(
            N_("Write the amount in whole kroner, for example 25.000 or 25.000,50.")
        )
    kroner = int(re.sub(r"\D", "", match["kroner"]))
    ore = int((match["ore"] or "0").ljust(2, "0"))
    total = kroner * 100 + ore
    if total > MAX_ORE:
        raise ValidationFailed(N_("The amount is too large."))
    return total


def format_ore(ore: int, *, with_unit: bool = True) -> str:
    """Format øre Danish-style: 2500000 → "25.000 kr.", 123450 → "1.234,50 kr."."""
    sign = "-" if ore < 0 else ""
    kroner, rest = divmod(abs(ore), 100)
    text = f"{kroner:,}".replace(",", ".")
    if rest:
        text += f",{rest:02d}"
    return f"{sign}{text} kr." if with_unit else f"{sign}{text}"


def format_ore_input(ore: int | None) -> str:
    """Format øre for an input field ("25.000" or "1.234,50"), the form the parser reads back."""
    return "" if ore is None else format_ore(ore, with_unit=False)


# "kr." ends with the abbreviation's period; a sentence that ends with an amount must not add a
# second one ("… op til 25.000 kr.." → "… op til 25.000 kr."). An ellipsis ("kr...") is left alone.
_DOUBLE_PERIOD = re.compile(r"\bkr\.\.(?!\.)")


def tidy_periods(text: str) -> str:
    """One period after an amount that ends a sentence: "25.000 kr.." → "25.000 kr."."""
    return _DOUBLE_PERIOD.sub("kr.", text)
