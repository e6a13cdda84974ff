"""The grant letter (tilsagnsbrev): what a winner is given, for what, and on which conditions.

The wording is the department's: a plain-text template (``templates/grant_letter_da.txt`` here,
or the file named by the ``GRANT_LETTER_TEMPLATE`` setting) with ``$name`` placeholders. A line
``# …`` is the title, ``## …`` a heading, a blank line ends a paragraph, and a paragraph that is
only ``$budget_lines`` becomes the table of approved budget lines. Unknown placeholders are left
as written (a typo in the template shows in the letter rather than failing the caseworker's click),
and :func:`template_problems` names them so the settings page can warn.

Always Danish: the letter is the municipality's decision. Tagged? No (see the README's PDFs
section): it is one column of paragraphs with a title and /Lang da, read in order by a screen reader.
"""

from __future__ import annotations

import io
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from deltager.money import format_ore
from deltager.pdf.drawing import FONT, FONT_BOLD, document_info

DEFAULT_TEMPLATE = Path(__file__).parent / "templates" / "grant_letter_da.txt"
MARGIN = 22 * mm
WIDTH = A4[0] - 2 * MARGIN
PLACEHOLDERS = frozenset({
    "round_title", "grantee_name", "project_title", "vote_date", "amount", "purpose", "budget_lines",
    "payout_terms", "deadline", "child_protection", "contact", "sender", "reference",
})

PAYOUT_TERMS = {
    "receipts": ("Pengene bliver udbetalt, når I sender kvitteringer eller fakturaer for det, I har købt. "
                 "Vi godkender hver kvittering, før pengene bliver udbetalt. I kan også bede os betale en "
                 "faktura direkte til leverandøren."),
    "up_front": ("Pengene bliver udbetalt til foreningens konto på én gang. Når projektet er færdigt, sender "
                 "foreningen et regnskab med kvitteringer for, hvad pengene er brugt til."),
}
CHILD_PROTECTION = ("Børn og unge deltager i projektet. Derfor skal vi have børneattester for de voksne, der er "
                    "sammen med børnene (eller foreningens erklæring om, at de er indhentet), før der bliver "
                    "udbetalt penge.")


@dataclass(frozen=True)
class LetterLine:
    """One approved budget line."""

    text: str
    amount_ore: int


@dataclass(frozen=True)
class GrantLetter:
    """What one grant letter states; texts come ready to print (dates in Danish)."""

    reference: str
    round_title: str
    grantee_name: str
    project_title: str
    vote_date: str
    amount_ore: int
    purpose: str
    lines: Sequence[LetterLine]
    payout_mode: str  # "receipts" | "up_front"
    deadline: str
    children: bool
    contact: str
    sender: str
    letter_date: str


def load_template(path: str | Path | None = None) -> str:
    """The department's template (``path``), or the default one."""
    return Path(path or DEFAULT_TEMPLATE).read_text(encoding="utf-8")


def template_problems(template: str) -> list[str]:
    """The placeholders in ``template`` that the letter does not know (a misspelt ``$amuont``)."""
    names = {match.group("named") or match.group("braced")
             for match in string.Template.pattern.finditer(template) if match.group("named") or match.group("braced")}
    return sorted(names - PLACEHOLDERS)


def _style(name: str, **kw: object) -> ParagraphStyle:
    base: dict[str, object] = {"fontName": FONT, "fontSize": 11, "leading": 15, "spaceAfter": 7}
    return ParagraphStyle(name, **{**base, **kw})


STYLES = {
    "title": _style("title", fontName=FONT_BOLD, fontSize=17, leading=21, spaceAfter=10),
    "h2": _style("h2", fontName=FONT_BOLD, fontSize=12.5, leading=16, spaceBefore=8, spaceAfter=4, keepWithNext=1),
    "body": _style("body"),
    "cell": _style("cell", fontSize=10, leading=13, spaceAfter=0),
    "num": _style("num", fontSize=10, leading=13, spaceAfter=0, alignment=TA_RIGHT),
    "small": _style("small", fontSize=9, leading=12, textColor=colors.Color(0.3, 0.3, 0.3)),
}


def grant_letter_pdf(letter: GrantLetter, template: str | None = None) -> bytes:
    """The letter as PDF bytes (A4, as many pages as it needs)."""
    values = {
        "round_title": letter.round_title, "grantee_name": letter.grantee_name,
        "project_title": letter.project_title, "vote_date": letter.vote_date,
        "amount": format_ore(letter.amount_ore), "purpose": letter.purpose,
        "payout_terms": PAYOUT_TERMS[letter.payout_mode], "deadline": letter.deadline,
        "child_protection": CHILD_PROTECTION if letter.children else "",
        "contact": letter.contact, "sender": letter.sender, "reference": letter.reference,
        "budget_lines": "$budget_lines",  # a table, placed below
    }
    text = string.Template(template if template is not None else load_template()).safe_substitute(values)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, invariant=1, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN,
                            **document_info(f"Tilsagn om støtte – {letter.project_title}", "da"))
    head = [Paragraph(escape(f"{letter.letter_date} · Sag {letter.reference}"), STYLES["small"]), Spacer(1, 4 * mm)]
    doc.build(head + _story(text, letter))
    return buffer.getvalue()


def _story(text: str, letter: GrantLetter) -> list[Flowable]:
    story: list[Flowable] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        block = block.strip("\n")
        if not block.strip():
            continue
        if block.strip() == "$budget_lines":
            story.append(_budget(letter))
        elif block.startswith("## "):
            story.append(_p(block[3:], "h2"))
        elif block.startswith("# "):
            story.append(_p(block[2:], "title"))
        else:
            story.append(Paragraph("<br/>".join(escape(line) for line in block.split("\n")), STYLES["body"]))
    return story


def _p(text: str, style: str) -> Paragraph:
    return Paragraph(escape(text), STYLES[style])


def _budget(letter: GrantLetter) -> Table:
    rows = [[Paragraph("<b>Budgetpost</b>", STYLES["cell"]), Paragraph("<b>Beløb</b>", STYLES["num"])]]
    rows += [[_p(line.text, "cell"), _p(format_ore(line.amount_ore), "num")] for line in letter.lines]
    rows.append([Paragraph("<b>I alt</b>", STYLES["cell"]), Paragraph(f"<b>{escape(format_ore(letter.amount_ore))}</b>",
                                                                     STYLES["num"])])
    table = Table(rows, colWidths=[WIDTH - 40 * mm, 40 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
        ("LINEABOVE", (0, -1), (-1, -1), 0.6, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]))
    return table
