"""The paper ballot: for voters without a phone. One ballot, printed in as many copies as needed.

The voter writes the number of their ballot card in the box at the top and ticks between the
fewest and the most projects; staff then enter it by the card's number (the card votes once, by
phone or on paper). Stands are listed in stand order, as the hall is laid out.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from deltager.money import format_ore
from deltager.pdf.drawing import FONT, FONT_BOLD, FONT_ITALIC, draw_lines, new_canvas, wrap

if TYPE_CHECKING:
    from deltager.voting.services import BallotProject

MARGIN = 18 * mm
BOX = 7 * mm  # a tick box: big enough for a cross by an unsteady hand
ROW_GAP = 5 * mm
TITLE_SIZE = 13


@dataclass(frozen=True)
class PaperBallotLine:
    """One project on the ballot: its stand, title and amount (øre)."""

    stand_number: int | None
    title: str
    amount_ore: int


def ballot_lines(projects: Iterable[BallotProject]) -> list[PaperBallotLine]:
    """The paper ballot's lines: the ballot's projects in the order given (stand order)."""
    return [PaperBallotLine(p.stand_number, p.title, p.cost_ore) for p in projects]


def paper_ballot_pdf(
    lines: Sequence[PaperBallotLine], *, meeting_title: str, meeting_when: str, min_choices: int, max_choices: int
) -> bytes:
    """The paper ballot of a voting meeting (Danish, with English under each instruction)."""
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, title=f"Stemmeseddel – {meeting_title}")
    width = A4[0] - 2 * MARGIN
    y = _header(canvas, meeting_title, meeting_when, min_choices, max_choices, width)
    if not lines:
        draw_lines(canvas, ["Ingen projekter er på stemmesedlen endnu.", "No projects are on the ballot yet."],
                   MARGIN, y, font=FONT, size=12)
    for line in lines:
        title_lines = wrap(line.title, FONT_BOLD, TITLE_SIZE, width - BOX - 60 * mm, max_lines=2)
        height = max(BOX, len(title_lines) * TITLE_SIZE * 1.2) + ROW_GAP
        if y - height < MARGIN + 20 * mm:
            _footer(canvas, width, more=True)
            canvas.showPage()
            y = A4[1] - MARGIN - 10
            draw_lines(canvas, [f"Stemmeseddel – {meeting_title} (fortsat / continued)"], MARGIN, y,
                       font=FONT_ITALIC, size=10)
            y -= 24
        _row(canvas, line, title_lines, y, width)
        y -= height
    _footer(canvas, width, more=False)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _header(canvas: Canvas, title: str, when: str, min_choices: int, max_choices: int, width: float) -> float:
    top = A4[1] - MARGIN
    y = draw_lines(canvas, ["Stemmeseddel"], MARGIN, top - 22, font=FONT_BOLD, size=26)
    y = draw_lines(canvas, ["Ballot paper"], MARGIN, y + 4, font=FONT_ITALIC, size=12)
    y = draw_lines(canvas, wrap(f"{title}, {when}", FONT, 11, width, max_lines=2), MARGIN, y - 2, font=FONT, size=11)
    # The card serial: a box to write in, to the right of the heading.
    box_w, box_h = 48 * mm, 14 * mm
    box_x, box_y = MARGIN + width - box_w, top - 34
    canvas.setLineWidth(1.2)
    canvas.rect(box_x, box_y, box_w, box_h, stroke=1, fill=0)
    draw_lines(canvas, ["Stemmekortets nummer:"], box_x, box_y + box_h + 16, font=FONT_BOLD, size=10)
    draw_lines(canvas, ["Number of your ballot card:"], box_x, box_y + box_h + 5, font=FONT_ITALIC, size=8)
    rule = (f"Sæt kryds ved mindst {min_choices} og højst {max_choices} projekter."
            if min_choices != max_choices else f"Sæt kryds ved præcis {min_choices} projekter.")
    rule_en = (f"Tick at least {min_choices} and at most {max_choices} projects."
               if min_choices != max_choices else f"Tick exactly {min_choices} projects.")
    y -= 10
    y = draw_lines(canvas, [rule], MARGIN, y, font=FONT_BOLD, size=15)
    y = draw_lines(canvas, [rule_en], MARGIN, y + 2, font=FONT_ITALIC, size=11)
    canvas.setLineWidth(0.6)
    canvas.line(MARGIN, y, MARGIN + width, y)
    return y - 24


def _row(canvas: Canvas, line: PaperBallotLine, title_lines: list[str], y: float, width: float) -> None:
    canvas.setLineWidth(1.2)
    canvas.rect(MARGIN, y - BOX + TITLE_SIZE, BOX, BOX, stroke=1, fill=0)
    stand = f"Stand {line.stand_number}" if line.stand_number is not None else "Stand –"
    draw_lines(canvas, [stand], MARGIN + BOX + 4 * mm, y, font=FONT, size=12)
    draw_lines(canvas, title_lines, MARGIN + BOX + 26 * mm, y, font=FONT_BOLD, size=TITLE_SIZE)
    amount = format_ore(line.amount_ore)
    canvas.setFont(FONT, 12)
    canvas.drawRightString(MARGIN + width, y, amount)


def _footer(canvas: Canvas, width: float, *, more: bool) -> None:
    texts = ["Giv sedlen til personalet. De taster dine kryds ind og viser dig dem, før stemmen tæller.",
             "Hand the ballot to the staff. They enter your ticks and show them to you before the vote counts."]
    if more:
        texts = ["Vend / fortsæt på næste side.  Continued on the next page."]
    canvas.setLineWidth(0.6)
    canvas.line(MARGIN, MARGIN + 22, MARGIN + width, MARGIN + 22)
    draw_lines(canvas, texts, MARGIN, MARGIN + 10, font=FONT, size=9, leading=11)
