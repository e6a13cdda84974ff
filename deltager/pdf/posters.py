"""Stand posters: one A4 page per project on the ballot, hung at its stand at the meeting.

From across the room people see the stand number; close up, the title, the amount and what the
project is about, and how to vote.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from deltager.money import format_ore
from deltager.pdf.drawing import FONT, FONT_BOLD, FONT_ITALIC, draw_lines, fit_size, new_canvas, wrap

if TYPE_CHECKING:
    from deltager.voting.services import BallotProject

MARGIN = 20 * mm
VOTE_LINE = ("Stem på din telefon med dit stemmekort", "Vote on your phone with your ballot card")


@dataclass(frozen=True)
class StandPoster:
    """One stand: its number, the project's title and summary, and the amount applied for (øre)."""

    stand_number: int
    title: str
    summary: str
    amount_ore: int


def stand_posters(projects: Iterable[BallotProject]) -> list[StandPoster]:
    """The posters of the ballot's projects that have a stand, in the ballot's (stand) order."""
    return [StandPoster(p.stand_number, p.title, p.summary, p.cost_ore) for p in projects if p.stand_number is not None]


def posters_pdf(stands: Sequence[StandPoster], *, meeting_title: str) -> bytes:
    """One A4 poster per stand, in the order given."""
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, title=f"Plakater – {meeting_title}")
    width = A4[0] - 2 * MARGIN
    left, top = MARGIN, A4[1] - MARGIN
    if not stands:
        draw_lines(canvas, ["Ingen stande at udskrive.", "No stands to print."],
                   left, top, font=FONT, size=14)
        canvas.showPage()
    for stand in stands:
        canvas.setFillColorRGB(0.35, 0.35, 0.35)
        draw_lines(canvas, wrap(meeting_title, FONT, 12, width, max_lines=2), left, top - 12,
                   font=FONT, size=12, centred_width=width)
        draw_lines(canvas, ["Stand"], left, top - 70, font=FONT_BOLD, size=28, centred_width=width)
        canvas.setFillColorRGB(0, 0, 0)
        number = str(stand.stand_number)
        draw_lines(canvas, [number], left, top - 250, font=FONT_BOLD, centred_width=width,
                   size=fit_size(number, FONT_BOLD, width, largest=190, smallest=40))
        baseline = draw_lines(canvas, wrap(stand.title, FONT_BOLD, 26, width, max_lines=3),
                              left, top - 310, font=FONT_BOLD, size=26, leading=31, centred_width=width)
        baseline = draw_lines(canvas, [format_ore(stand.amount_ore)], left, baseline - 12,
                              font=FONT_BOLD, size=24, centred_width=width)
        summary_lines = max(1, int((baseline - 16 - (MARGIN + 70)) // 19))
        draw_lines(canvas, wrap(stand.summary, FONT, 15, width, max_lines=summary_lines),
                   left, baseline - 16, font=FONT, size=15, leading=19)
        canvas.setLineWidth(1)
        canvas.line(left, MARGIN + 52, left + width, MARGIN + 52)
        draw_lines(canvas, [VOTE_LINE[0]], left, MARGIN + 28, font=FONT_BOLD, size=18, centred_width=width)
        draw_lines(canvas, [VOTE_LINE[1]], left, MARGIN + 8, font=FONT_ITALIC, size=14, centred_width=width)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
