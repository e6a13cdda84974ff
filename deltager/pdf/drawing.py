"""Drawing helpers shared by the documents: fonts, canvases, wrapped text and vector QR codes.

The fonts are reportlab's built-in Helvetica family: no font files to ship, and its WinAnsi
encoding has what Danish needs (æøå ÆØÅ é « » –). Characters outside it (emoji) print as a box
rather than failing.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

FONT = "Helvetica"
FONT_BOLD = "Helvetica-Bold"
FONT_ITALIC = "Helvetica-Oblique"
AUTHOR = "Deltager"
#: Modules of white around a QR code; the standard asks for 4.
QR_QUIET_ZONE = 4
#: The QR mask pattern, fixed. The standard's choice (the lowest of eight penalty scores) makes
#: the qrcode library build every code eight times: 9 ms a code, 45 s for a batch of 5,000 ballot
#: cards, past gunicorn's timeout. A card's data is mostly a random token, so every mask gives a
#: random-looking pattern; mask 2 (dark columns j mod 3 = 0) scored lowest of the eight fixed ones
#: on such URLs (mean penalty 747 against 707 for the best of eight per code). Any mask decodes:
#: the code says which one it uses.
QR_MASK = 2


def document_info(title: str, lang: str = "da") -> dict[str, object]:
    """What every document says about itself, for a screen reader and a PDF viewer.

    A title, shown in the viewer's title bar instead of the file name (``DisplayDocTitle``), and
    the language of its text (``/Lang`` in the catalog: a screen reader picks its voice by it).
    The keys are reportlab's ``SimpleDocTemplate`` arguments; :func:`new_canvas` applies the
    same to a bare canvas, so every PDF here is described by this one function.
    """
    return {"title": title, "author": AUTHOR, "creator": AUTHOR, "lang": lang, "displayDocTitle": True}


def new_canvas(buffer: io.BytesIO, *, title: str, lang: str = "da") -> Canvas:
    """An A4 canvas with deterministic output (``invariant``) and :func:`document_info`."""
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1, lang=lang)
    canvas.setTitle(title)
    canvas.setAuthor(AUTHOR)
    canvas.setCreator(AUTHOR)
    canvas.setViewerPreference("DisplayDocTitle", "true")
    return canvas


def wrap(text: str, font: str, size: float, width: float, *, max_lines: int | None = None) -> list[str]:
    """Split ``text`` into lines no wider than ``width``; cut to ``max_lines`` with an ellipsis."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines.extend(simpleSplit(paragraph, font, size, width) or [""])
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and stringWidth(last + " …", font, size) > width:
            # Drop whole words; a single over-long word loses characters.
            last = last.rsplit(" ", 1)[0] if " " in last else last[:-1]
        lines[-1] = last.rstrip() + " …"
    return lines


def fit_size(text: str, font: str, width: float, *, largest: float, smallest: float) -> float:
    """The largest font size (down to ``smallest``) at which ``text`` fits in ``width``."""
    size = largest
    while size > smallest and stringWidth(text, font, size) > width:
        size -= 1
    return size


def draw_lines(
    canvas: Canvas, lines: Sequence[str], x: float, y: float, *, font: str, size: float,
    leading: float | None = None, centred_width: float | None = None,
) -> float:
    """Draw lines downwards from baseline ``y``; centred in ``centred_width`` if given. Returns the next baseline."""
    leading = leading or size * 1.2
    canvas.setFont(font, size)
    for line in lines:
        if centred_width is None:
            canvas.drawString(x, y, line)
        else:
            canvas.drawCentredString(x + centred_width / 2, y, line)
        y -= leading
    return y


def qr_matrix(data: str) -> list[list[bool]]:
    """The modules of a QR code for ``data`` (error correction M, mask 2), quiet zone included."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QR_QUIET_ZONE, mask_pattern=QR_MASK)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw a QR code as vector rectangles in the square (x, y, size), quiet zone included.

    Dark modules of a row are merged into runs and drawn as one path: sharp at any zoom, a few
    kilobytes per code, and no hairline seams between neighbouring modules. The path is written
    in module units (one ``re`` operator of small integers per run, under a scaling transform):
    reportlab's ``path.rect`` formats every float in Python, which cost more than the rest of a
    card.
    """
    matrix = qr_matrix(data)
    module = size / len(matrix)
    runs: list[str] = []
    for row_index, row in enumerate(matrix):
        start: int | None = None
        for col, dark in enumerate([*row, False]):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                runs.append(f"{start} {row_index} {col - start} 1 re")
                start = None
    canvas.saveState()
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    canvas.translate(x, y + size)
    canvas.scale(module, -module)  # (column, row) from the top left corner, as the matrix reads
    canvas.addLiteral("\n".join(runs) + "\nf")
    canvas.restoreState()
