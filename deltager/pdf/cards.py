"""Ballot cards (stemmekort): A4 sheets of cut-out cards, each with its own QR code.

Eight cards to a sheet (2 × 4, 95 × 69 mm) inside a 10 mm margin that any office printer can
print, with dashed cut lines. Each card carries a QR code of its voting URL (error correction M,
40 mm with its quiet zone: a phone reads it at arm's length), the printed serial in large type,
the meeting's title and time, and three steps in Danish and English.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from deltager.pdf.drawing import (
    FONT, FONT_BOLD, FONT_ITALIC, draw_lines, draw_qr, fit_size, new_canvas, wrap,
)

COLUMNS, ROWS = 2, 4
PER_PAGE = COLUMNS * ROWS
MARGIN = 10 * mm
CARD_WIDTH = (A4[0] - 2 * MARGIN) / COLUMNS
CARD_HEIGHT = (A4[1] - 2 * MARGIN) / ROWS
PADDING = 4 * mm
QR_SIZE = 40 * mm

#: The three steps, each in Danish and in English.
INSTRUCTIONS = (
    ("1. Scan koden med din telefon", "Scan the code with your phone"),
    ("2. Vælg de projekter, du vil stemme på", "Choose the projects you vote for"),
    ("3. Tryk «Stem» – kortet kan kun bruges én gang", "Press «Vote» – the card works once"),
)
LABEL = "Stemmekort / Ballot card"


@dataclass(frozen=True)
class CardPrint:
    """One card to print: its serial number and the URL its QR code opens."""

    serial: str
    url: str


@dataclass(frozen=True)
class _SharedText:
    """The text every card of a batch carries, wrapped once (wrapping is most of a card's text work)."""

    title: list[str]
    when: list[str]
    instructions: list[tuple[list[str], list[str]]]  # (Danish lines, English lines) per step

    @classmethod
    def wrap(cls, meeting_title: str, meeting_when: str) -> _SharedText:
        beside_qr = CARD_WIDTH - 2 * PADDING - QR_SIZE - 2 * mm
        full = CARD_WIDTH - 2 * PADDING
        return cls(
            title=wrap(meeting_title, FONT_BOLD, 8.5, beside_qr, max_lines=3),
            when=wrap(meeting_when, FONT, 8, beside_qr, max_lines=2),
            instructions=[(wrap(danish, FONT_BOLD, 8, full, max_lines=1),
                           wrap(english, FONT_ITALIC, 7.4, full, max_lines=1))
                          for danish, english in INSTRUCTIONS],
        )


def cards_pdf(cards: Sequence[CardPrint], *, meeting_title: str, meeting_when: str) -> bytes:
    """A4 sheets of cut-out ballot cards, eight to a page, in the order given.

    About 2.3 ms a card on the project's machine (most of it the QR code's error correction in
    the qrcode library): a batch of 5,000 cards in 12 s, inside gunicorn's 30 s (``make bench``).
    """
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, title=f"Stemmekort – {meeting_title}")
    text = _SharedText.wrap(meeting_title, meeting_when)
    pages = [cards[i:i + PER_PAGE] for i in range(0, len(cards), PER_PAGE)] or [[]]
    for number, page in enumerate(pages, start=1):
        if not page:
            draw_lines(canvas, ["Ingen stemmekort at udskrive.", "No ballot cards to print."],
                       MARGIN, A4[1] - MARGIN - 12, font=FONT, size=12)
        for index, card in enumerate(page):
            column, row = index % COLUMNS, index // COLUMNS
            x = MARGIN + column * CARD_WIDTH
            y = A4[1] - MARGIN - (row + 1) * CARD_HEIGHT
            _draw_card(canvas, card, x, y, text)
        _draw_footer(canvas, page, number, len(pages), meeting_title)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_card(canvas: Canvas, card: CardPrint, x: float, y: float, text: _SharedText) -> None:
    """One card with its lower-left corner at (x, y)."""
    canvas.saveState()
    canvas.setStrokeColorRGB(0.55, 0.55, 0.55)
    canvas.setLineWidth(0.5)
    canvas.setDash(3, 3)
    canvas.rect(x, y, CARD_WIDTH, CARD_HEIGHT, stroke=1, fill=0)
    canvas.restoreState()

    top = y + CARD_HEIGHT - PADDING
    draw_qr(canvas, card.url, x + PADDING, top - QR_SIZE, QR_SIZE)

    text_x = x + PADDING + QR_SIZE + 2 * mm
    text_width = x + CARD_WIDTH - PADDING - text_x
    baseline = draw_lines(canvas, [LABEL], text_x, top - 9, font=FONT, size=7.5)
    serial_size = fit_size(card.serial, FONT_BOLD, text_width, largest=26, smallest=10)
    baseline = draw_lines(canvas, [card.serial], text_x, baseline - serial_size * 0.75,
                          font=FONT_BOLD, size=serial_size)
    baseline = draw_lines(canvas, text.title, text_x, baseline - 2, font=FONT_BOLD, size=8.5)
    draw_lines(canvas, text.when, text_x, baseline, font=FONT, size=8)

    baseline = top - QR_SIZE - 9
    for danish, english in text.instructions:
        baseline = draw_lines(canvas, danish, x + PADDING, baseline, font=FONT_BOLD, size=8, leading=9.2)
        canvas.setFillColorRGB(0.25, 0.25, 0.25)
        baseline = draw_lines(canvas, english, x + PADDING + 3.2 * mm, baseline, font=FONT_ITALIC, size=7.4,
                              leading=10.4)
        canvas.setFillColorRGB(0, 0, 0)


def _draw_footer(canvas: Canvas, page: Sequence[CardPrint], number: int, total: int,
                 meeting_title: str) -> None:
    """A small line under the grid so printed sheets can be put back in order."""
    serials = f"kort {page[0].serial}–{page[-1].serial} · " if page else ""
    text = f"{meeting_title} · {serials}side {number} af {total}"
    canvas.saveState()
    canvas.setFillColorRGB(0.4, 0.4, 0.4)
    draw_lines(canvas, wrap(text, FONT, 6.5, A4[0] - 2 * MARGIN, max_lines=1),
               MARGIN, MARGIN / 2 - 2, font=FONT, size=6.5)
    canvas.restoreState()

