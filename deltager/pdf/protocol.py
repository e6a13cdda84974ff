"""The protocol of a voting meeting (Protokol for afstemningsmøde): the formal record of the vote.

It states when and where the vote was held, under which rule, tie-break and seed, how the ballot
cards were used, the votes of every project with the winners and their amounts, the remainder of
the pot, the allocation step by step, the hash of its inputs (anyone can recompute the result from
the same inputs) and lines for two signatures. Built with platypus, so a long ballot or trace flows
over as many pages as it needs, table headers repeated.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from deltager.money import format_ore, tidy_periods
from deltager.pdf.drawing import FONT, FONT_BOLD, document_info
from deltager.voting.services import ClosedVote, ResultLine

TITLE = "Protokol for afstemningsmøde"
MARGIN = 20 * mm
WIDTH = A4[0] - 2 * MARGIN
GRID = colors.Color(0.7, 0.7, 0.7)
WINNER = colors.Color(0.88, 0.95, 0.88)
HEADER = colors.Color(0.92, 0.92, 0.92)


@dataclass(frozen=True, kw_only=True)
class ProtocolLine(ResultLine):
    """A line of the result without its application (a protocol made from plain values)."""

    application_id: int = 0


@dataclass(frozen=True)
class ProtocolData:
    """Everything the protocol states; texts (rule, tie-break, time) come ready to print."""

    round_title: str
    meeting_title: str
    place: str
    held_at: str
    rule: str
    tie_break: str
    seed: str | None
    cards_issued: int
    cards_used_phone: int
    cards_used_paper: int
    cards_voided: int
    door_count: int | None
    lines: Sequence[ResultLine]
    pot_ore: int
    granted_total_ore: int
    remainder_ore: int
    trace_lines: Sequence[str]
    inputs_hash: str


def protocol_data(vote: ClosedVote, *, held_at: str, rule: str, tie_break: str) -> ProtocolData:
    """What the protocol of a closed vote states; the texts (time, rule, tie-break) come in Danish."""
    meeting, rec, allocation = vote.meeting, vote.reconciliation, vote.allocation
    return ProtocolData(
        round_title=vote.round.title, meeting_title=meeting.title, place=meeting.place, held_at=held_at,
        rule=rule, tie_break=tie_break, seed=allocation.seed,
        cards_issued=rec.issued, cards_used_phone=rec.used_phone, cards_used_paper=rec.used_paper,
        cards_voided=rec.voided, door_count=rec.door_count, lines=vote.lines,
        pot_ore=allocation.pot_ore, granted_total_ore=allocation.granted_total_ore,
        remainder_ore=allocation.remainder_ore, trace_lines=allocation.trace_da, inputs_hash=allocation.inputs_hash,
    )


def _style(name: str, **kw: Any) -> ParagraphStyle:
    """A paragraph style on the built-in Helvetica."""
    base: dict[str, Any] = {"fontName": FONT, "fontSize": 10, "leading": 13}
    return ParagraphStyle(name, **{**base, **kw})


STYLES = {
    "title": _style("title", fontName=FONT_BOLD, fontSize=18, leading=22, spaceAfter=4),
    "subtitle": _style("subtitle", fontSize=12, leading=15, spaceAfter=10),
    "h2": _style("h2", fontName=FONT_BOLD, fontSize=12, leading=15, spaceBefore=10, spaceAfter=5, keepWithNext=1),
    "body": _style("body"),
    "cell": _style("cell", fontSize=9, leading=11),
    "cell_bold": _style("cell_bold", fontName=FONT_BOLD, fontSize=9, leading=11),
    "num": _style("num", fontSize=9, leading=11, alignment=TA_RIGHT),
    "num_bold": _style("num_bold", fontName=FONT_BOLD, fontSize=9, leading=11, alignment=TA_RIGHT),
    "trace": _style("trace", fontSize=8.5, leading=10.5, leftIndent=8 * mm, firstLineIndent=-8 * mm),
    "hash": _style("hash", fontName="Courier", fontSize=8.5, leading=11),
    "small": _style("small", fontSize=8.5, leading=11, textColor=colors.Color(0.3, 0.3, 0.3)),
}


def protocol_pdf(data: ProtocolData) -> bytes:
    """The protocol as PDF bytes: A4, as many pages as the ballot and the trace need."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, invariant=1, leftMargin=MARGIN, rightMargin=MARGIN,
        topMargin=MARGIN, bottomMargin=MARGIN + 4 * mm,
        **document_info(f"{TITLE} – {data.round_title}", "da"),
    )

    def footer(canvas: Canvas, document: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.Color(0.4, 0.4, 0.4))
        canvas.drawString(MARGIN, MARGIN - 2 * mm, f"{TITLE} · {data.round_title}"[:110])
        canvas.drawRightString(A4[0] - MARGIN, MARGIN - 2 * mm, f"Side {document.page}")
        canvas.restoreState()

    doc.build(_story(data), onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _p(text: object, style: str = "body") -> Paragraph:
    """A paragraph of plain text (escaped: titles come from citizens)."""
    return Paragraph(escape(str(text)), STYLES[style])


def _story(data: ProtocolData) -> list[Flowable]:
    """The flowables of the protocol, section by section."""
    return [
        _p(TITLE, "title"),
        _p(f"{data.round_title} · {data.meeting_title}", "subtitle"),
        _p("1. Mødet", "h2"),
        _facts([
            ("Dato og tid", data.held_at),
            ("Sted", data.place),
            ("Fordelingsregel", data.rule),
            ("Ved stemmelighed", data.tie_break),
            ("Lodtrækningsfrø (seed)", data.seed if data.seed else "Ikke brugt"),
        ]),
        _p("2. Stemmekort og fremmøde", "h2"),
        _facts(_card_facts(data), numbers=True),
        _p("3. Stemmer og fordeling", "h2"),
        _results_table(data.lines),
        Spacer(1, 4 * mm),
        _facts([
            ("Puljen", format_ore(data.pot_ore)),
            ("Bevilget i alt", format_ore(data.granted_total_ore)),
            ("Rest (ikke fordelt)", format_ore(data.remainder_ore)),
        ], numbers=True, bold=True),
        _p("4. Beregningen trin for trin", "h2"),
        *_trace(data.trace_lines),
        # The signatures never stand alone on a page: they keep the last section with them.
        KeepTogether([
            _p("5. Kontrol", "h2"),
            _p("Inputhash (SHA-256 af stemmer, beløb, pulje, regel og lodtrækning):", "small"),
            _p(data.inputs_hash, "hash"),
            _p("Fordelingen kan regnes efter: de samme input giver altid det samme resultat.", "small"),
            *_signatures(),
        ]),
    ]


def _card_facts(data: ProtocolData) -> list[tuple[str, str]]:
    """Card counts; unused = issued − used − voided."""
    used = data.cards_used_phone + data.cards_used_paper
    unused = max(0, data.cards_issued - used - data.cards_voided)
    return [
        ("Udleverede stemmekort", str(data.cards_issued)),
        ("Brugt på telefon", str(data.cards_used_phone)),
        ("Brugt på papir", str(data.cards_used_paper)),
        ("Afgivne stemmesedler i alt", str(used)),
        ("Annullerede kort", str(data.cards_voided)),
        ("Ubrugte kort", str(unused)),
        ("Fremmødte (optalt ved døren)",
         "Ikke optalt" if data.door_count is None else str(data.door_count)),
    ]


def _facts(rows: Sequence[tuple[str, str]], *, numbers: bool = False, bold: bool = False) -> Table:
    """A two-column table of label and value."""
    value_style = ("num_bold" if bold else "num") if numbers else "body"
    label_style = "cell_bold" if bold else "body"
    label_width = 70 * mm
    value_width = 40 * mm if numbers else WIDTH - label_width
    table = Table([[_p(label, label_style), _p(value, value_style)] for label, value in rows],
                  colWidths=[label_width, value_width], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def _results_table(lines: Sequence[ResultLine]) -> Flowable:
    """Votes per project, winners marked and shaded; flows over pages with the header repeated."""
    if not lines:
        return _p("Ingen projekter på stemmesedlen.")
    header = [_p(t, "cell_bold") for t in ("Nr.", "Stand", "Projekt")] + [
        _p(t, "num_bold") for t in ("Stemmer", "Ansøgt", "Bevilget", "Valgt")
    ]
    rows: list[list[Flowable]] = [header]
    style: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), HEADER),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID),
        ("LINEBELOW", (0, 0), (-1, 0), 0.75, colors.black),
    ]
    for index, line in enumerate(lines, start=1):
        rows.append([
            _p(line.rank, "cell"),
            _p("–" if line.stand_number is None else line.stand_number, "cell"),
            _p(line.title, "cell_bold" if line.selected else "cell"),
            _p(line.votes, "num"),
            _p(format_ore(line.cost_ore), "num"),
            _p(format_ore(line.granted_ore) if line.granted_ore else "–", "num"),
            _p("Ja" if line.selected else "Nej", "num_bold" if line.selected else "num"),
        ])
        if line.selected:
            style.append(("BACKGROUND", (0, index), (-1, index), WINNER))
    widths = [11 * mm, 15 * mm, None, 18 * mm, 25 * mm, 25 * mm, 13 * mm]
    fixed = sum(w for w in widths if w is not None)
    widths[2] = WIDTH - fixed
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(style))
    return table


def _trace(lines: Sequence[str]) -> list[Flowable]:
    """The allocation's steps as written: the project lines carry their own numbers (the rule's
    line and the headers have none), so they are not numbered again."""
    if not lines:
        return [_p("Ingen trin registreret.")]
    return [_p(tidy_periods(line), "trace") for line in lines]


def _signatures() -> list[Flowable]:
    """Two signature blocks side by side, under their heading."""
    cell = (WIDTH - 10 * mm) / 2
    table = Table(
        [
            ["", "", ""],
            [_p("Mødeleder", "cell_bold"), "", _p("Sagsbehandler", "cell_bold")],
            [_p("Navn:", "cell"), "", _p("Navn:", "cell")],
            [_p("Dato:", "cell"), "", _p("Dato:", "cell")],
        ],
        colWidths=[cell, 10 * mm, cell], rowHeights=[18 * mm, None, 9 * mm, 9 * mm], hAlign="LEFT",
    )
    table.setStyle(TableStyle([
        ("LINEBELOW", (0, 0), (0, 0), 0.75, colors.black),
        ("LINEBELOW", (2, 0), (2, 0), 0.75, colors.black),
        ("LINEBELOW", (0, 2), (0, 3), 0.25, GRID),
        ("LINEBELOW", (2, 2), (2, 3), 0.25, GRID),
        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
    ]))
    return [_p("6. Underskrifter", "h2"), table]
