"""Every PDF a person reads says what it is and in which language, and its text can be read out.

A title the viewer shows instead of the file name (``DisplayDocTitle``), ``/Lang`` in the catalog
(a screen reader picks its voice by it) and real text, not pictures of text: the words are
extracted from the bytes. Nothing is drawn as an image: the QR codes are vector paths
(deltager.pdf.drawing.draw_qr), so a page holds no image XObject at all.

pypdf reads the bytes in pure Python, so this test runs where poppler-utils is not installed.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from pypdf import PdfReader

from deltager.pdf.cards import CardPrint, cards_pdf
from deltager.pdf.grant_letter import grant_letter_pdf
from deltager.pdf.paper_ballot import PaperBallotLine, paper_ballot_pdf
from deltager.pdf.posters import StandPoster, posters_pdf
from deltager.pdf.receipts import ApplicationReceipt, MeetingReceipt, application_receipt_pdf, meeting_receipt_pdf
from deltager.pdf.protocol import protocol_pdf
from tests.pdf.test_grant_letter import make_letter
from tests.pdf.test_protocol import make_data

MEETING, WHEN = "Afstemningsmøde i Beboerhuset", "14. oktober 2025 kl. 17.00"

#: name → (make the PDF, its title, words a reader must get out of it)
DOCUMENTS: dict[str, tuple[Callable[[], bytes], str, list[str]]] = {
    "ballot cards": (
        lambda: cards_pdf([CardPrint(serial="0007", url="https://deltager.example/v/abc")],
                          meeting_title=MEETING, meeting_when=WHEN),
        f"Stemmekort – {MEETING}", ["Scan", "0007", MEETING]),
    "application receipt": (
        lambda: application_receipt_pdf(ApplicationReceipt(
            name="Bo Borger", title="Skraldecaféen", round_title="Fællesskab 2025", status="Indsendt",
            reference="A-2025-0042", code="ABCDE-FGH23", look_up_url="https://deltager.example/find",
            printed_on="1. oktober 2025")),
        "Kvittering A-2025-0042", ["Kvittering for din ansøgning", "ABCDE-FGH23", "Personlig kode"]),
    "meeting receipt": (
        lambda: meeting_receipt_pdf(MeetingReceipt(
            name="Bo Borger", meeting_title="Informationsmøde", round_title="Fællesskab 2025", when=WHEN,
            place="Beboerhuset", note="")),
        "Tilmelding – Informationsmøde", ["Du er tilmeldt", "Beboerhuset", WHEN]),
    "protocol": (lambda: protocol_pdf(make_data()), "Protokol for afstemningsmøde – Fællesskab i Gellerup 2025",
                 ["Protokol for afstemningsmøde", "Udleverede stemmekort", "Lodtrækning"]),
    "paper ballot": (
        lambda: paper_ballot_pdf([PaperBallotLine(1, "Skraldecaféen", 1_850_000)], meeting_title=MEETING,
                                 meeting_when=WHEN, min_choices=1, max_choices=3),
        f"Stemmeseddel – {MEETING}", ["Skraldecaféen", MEETING]),
    "posters": (
        lambda: posters_pdf([StandPoster(stand_number=4, title="Lektiehjælp i kælderen", summary="Hver tirsdag.",
                                         amount_ore=400_000)], meeting_title=MEETING),
        f"Plakater – {MEETING}", ["Lektiehjælp i kælderen", "Stem på din telefon"]),
    "grant letter": (lambda: grant_letter_pdf(make_letter()), "Tilsagn om støtte – Lektiehjælp i kælderen",
                     ["Tilsagn om støtte", "Betingelser", "Lektiehjælp i kælderen"]),
}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_pdf_has_title_language_and_readable_text(name: str) -> None:
    make, title, words = DOCUMENTS[name]
    reader = PdfReader(io.BytesIO(make()))
    catalog = reader.trailer["/Root"]

    assert reader.metadata is not None and reader.metadata.title == title
    assert catalog.get("/Lang") == "da"
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712 (a pypdf BooleanObject)
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    for word in words:
        assert word in text, f"{word!r} cannot be read out of the {name}: {text[:300]!r}"
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        xobjects = resources.get("/XObject") or {}
        images = [k for k, x in xobjects.items() if x.get_object().get("/Subtype") == "/Image"]
        assert not images, f"the {name} draws {images} as pictures: text in them cannot be read out"
