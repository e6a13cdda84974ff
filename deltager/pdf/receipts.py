"""Printed receipts for citizens without e-mail: one A4 page in Danish, large type, plain layout.

An application's receipt carries its reference and the personal code (the only place the code is
ever shown) and says where to type them; a meeting sign-up's receipt carries the time and place.
Pure: values in, bytes out.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from deltager.pdf.drawing import FONT, FONT_BOLD, draw_lines, fit_size, new_canvas, wrap

MARGIN = 22 * mm
WIDTH = A4[0] - 2 * MARGIN
#: Courier tells look-alike characters apart best of the built-in fonts.
CODE_FONT = "Courier-Bold"


@dataclass(frozen=True)
class ApplicationReceipt:
    """What an application's receipt says (texts already in Danish)."""

    name: str
    title: str
    round_title: str
    status: str
    reference: str
    code: str  # as printed, e.g. "ABCDE-FGH23"
    look_up_url: str
    printed_on: str


@dataclass(frozen=True)
class MeetingReceipt:
    """What a meeting sign-up's receipt says (texts already in Danish)."""

    name: str
    meeting_title: str
    round_title: str
    when: str
    place: str
    note: str


def _heading(canvas: Canvas, text: str, y: float) -> float:
    return draw_lines(canvas, wrap(text, FONT_BOLD, 26, WIDTH), MARGIN, y, font=FONT_BOLD, size=26, leading=32)


def _text(canvas: Canvas, text: str, y: float, *, size: float = 15, bold: bool = False) -> float:
    font = FONT_BOLD if bold else FONT
    return draw_lines(canvas, wrap(text, font, size, WIDTH), MARGIN, y, font=font, size=size, leading=size * 1.35)


def _facts(canvas: Canvas, facts: Sequence[tuple[str, str]], y: float) -> float:
    for label, value in facts:
        y = _text(canvas, label, y, size=13)
        y = _text(canvas, value, y + 2, size=17, bold=True) - 8
    return y


def _big(canvas: Canvas, label: str, value: str, y: float) -> float:
    """A boxed label and a value in very large type, for the reference and the code."""
    size = fit_size(value, CODE_FONT, WIDTH - 12 * mm, largest=40, smallest=20)
    height = size + 34
    canvas.setLineWidth(1.5)
    canvas.rect(MARGIN, y - height + 14, WIDTH, height, stroke=1, fill=0)
    draw_lines(canvas, [label], MARGIN + 6 * mm, y - 4, font=FONT, size=14)
    draw_lines(canvas, [value], MARGIN + 6 * mm, y - 14 - size, font=CODE_FONT, size=size)
    return y - height - 10


def application_receipt_pdf(receipt: ApplicationReceipt) -> bytes:
    """The receipt with reference and personal code."""
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, title=f"Kvittering {receipt.reference}")
    y = _heading(canvas, "Kvittering for din ansøgning", A4[1] - MARGIN - 20)
    y = _facts(canvas, [
        ("Navn", receipt.name or "–"),
        ("Projekt", receipt.title or "Ansøgning uden titel"),
        ("Pulje", receipt.round_title),
        ("Status", receipt.status),
    ], y - 10)
    y = _big(canvas, "Reference", receipt.reference, y - 4)
    y = _big(canvas, "Personlig kode", receipt.code, y)
    y = _text(canvas, "Sådan ser du din ansøgning", y - 4, size=17, bold=True)
    y = _text(canvas, f"Gå ind på {receipt.look_up_url} på en telefon eller computer, og skriv "
                      "reference og personlig kode. Du kan også tage kvitteringen med til et hjælpemøde.", y)
    y = _text(canvas, "Gem kvitteringen. Koden står kun her. Mister du den, kan kommunen give dig en ny; "
                      "så holder den gamle op med at virke.", y - 8)
    _text(canvas, f"Udskrevet {receipt.printed_on}", max(y - 16, MARGIN), size=11)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def meeting_receipt_pdf(receipt: MeetingReceipt) -> bytes:
    """The receipt of a sign-up for a meeting: what, when and where."""
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, title=f"Tilmelding – {receipt.meeting_title}")
    y = _heading(canvas, "Du er tilmeldt", A4[1] - MARGIN - 20)
    y = _facts(canvas, [
        ("Navn", receipt.name),
        ("Møde", receipt.meeting_title),
        ("Pulje", receipt.round_title),
        ("Tid", receipt.when),
        ("Sted", receipt.place),
        *([("Bemærkning", receipt.note)] if receipt.note else []),
    ], y - 10)
    _text(canvas, "Kan du ikke komme, så ring eller sig det til kommunen, så en anden kan få pladsen. "
                  "Bliver mødet flyttet eller aflyst, ringer eller skriver kommunen til dig.", y - 8)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
