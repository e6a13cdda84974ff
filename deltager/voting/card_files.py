"""The files that carry a batch of ballot cards' codes: one function for the cards page and for
``flask cards issue``.

A CSV of serial and URL (for a print shop) or PDF sheets of cut-out cards, one QR code each. The
codes exist only in these files, so they are made from the freshly issued cards and nowhere else.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Literal, overload

from deltager.voting.services import IssuedCard, card_url

CardFormat = Literal["pdf", "csv"]
MIMETYPES = {"pdf": "application/pdf", "csv": "text/csv"}


@overload
def card_file(cards: Sequence[IssuedCard], fmt: Literal["csv"], *, base_url: str, title: str, when: str) -> str: ...
@overload
def card_file(cards: Sequence[IssuedCard], fmt: Literal["pdf"], *, base_url: str, title: str, when: str) -> bytes: ...
@overload
def card_file(cards: Sequence[IssuedCard], fmt: CardFormat, *, base_url: str, title: str, when: str) -> str | bytes: ...


def card_file(cards: Sequence[IssuedCard], fmt: CardFormat, *, base_url: str, title: str, when: str) -> str | bytes:
    """The batch as a CSV text (``serial,url``) or as PDF bytes headed by the meeting's title and time."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["serial", "url"])
        writer.writerows([c.serial, card_url(base_url, c.code)] for c in cards)
        return buffer.getvalue()
    from deltager.pdf.cards import CardPrint, cards_pdf  # reportlab only when a PDF is made

    return cards_pdf([CardPrint(c.serial, card_url(base_url, c.code)) for c in cards],
                     meeting_title=title, meeting_when=when)


def card_file_name(meeting_id: int, cards: Sequence[IssuedCard], fmt: CardFormat) -> str:
    """``stemmekort-<meeting>-<first serial>-<last serial>.<format>``."""
    return f"stemmekort-{meeting_id}-{cards[0].serial}-{cards[-1].serial}.{fmt}"
