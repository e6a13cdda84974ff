"""The protocol: every fact of the vote printed, long tables flowing over pages."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from deltager.pdf.protocol import ProtocolData, ProtocolLine, protocol_pdf
from tests.pdf.poppler import page_texts, pdf_text

HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def make_data(projects: int = 3, trace: int = 3) -> ProtocolData:
    """A protocol: the first two projects win."""
    lines = [
        ProtocolLine(rank=n, stand_number=n if n != 3 else None, title=f"Projekt {n} – Børnenes <have> i Ørum",
                     votes=100 - n, cost_ore=1_850_000, granted_ore=1_850_000 if n <= 2 else 0,
                     selected=n <= 2)
        for n in range(1, projects + 1)
    ]
    return ProtocolData(
        round_title="Fællesskab i Gellerup 2025", meeting_title="Afstemningsmøde",
        place="Foreningernes Hus, Gellerupparken 1", held_at="14. oktober 2025 kl. 17.00",
        rule="Flest stemmer inden for budgettet", tie_break="Lodtrækning", seed="s33d-42",
        cards_issued=120, cards_used_phone=80, cards_used_paper=20, cards_voided=3, door_count=118,
        lines=lines, pot_ore=20_000_000, granted_total_ore=3_700_000, remainder_ore=16_300_000,
        trace_lines=["Flest stemmer først: projekterne tages i rækkefølge efter stemmetal."]
        + [f"{n}. Forslag {n} (99 stemmer, 18.500 kr.): bevilget" for n in range(1, trace + 1)],
        inputs_hash=HASH,
    )


def squash(text: str) -> str:
    """Text with runs of whitespace made single spaces (pdftotext -layout pads columns)."""
    return re.sub(r"\s+", " ", text)


def test_protocol_states_every_fact(tmp_path: Path) -> None:
    pdf = protocol_pdf(make_data())
    text = squash(" ".join(page_texts(pdf, tmp_path)))

    assert protocol_pdf(make_data()) == pdf
    assert "Protokol for afstemningsmøde" in text
    assert "Fællesskab i Gellerup 2025" in text
    assert "14. oktober 2025 kl. 17.00" in text and "Foreningernes Hus, Gellerupparken 1" in text
    assert "Flest stemmer inden for budgettet" in text and "Lodtrækning" in text and "s33d-42" in text
    assert "Udleverede stemmekort 120" in text
    assert "Brugt på telefon 80" in text and "Brugt på papir 20" in text
    assert "Afgivne stemmesedler i alt 100" in text
    assert "Annullerede kort 3" in text and "Ubrugte kort 17" in text
    assert "Fremmødte (optalt ved døren) 118" in text
    assert "Projekt 1 – Børnenes <have> i Ørum" in text  # markup-like titles print as written
    assert "Puljen 200.000 kr." in text
    assert "Bevilget i alt 37.000 kr." in text and "Rest (ikke fordelt) 163.000 kr." in text
    assert "Flest stemmer først: projekterne tages i rækkefølge efter stemmetal." in text
    assert "2. Forslag 2 (99 stemmer, 18.500 kr.): bevilget" in text
    assert HASH in text
    assert "Mødeleder" in text and "Sagsbehandler" in text and text.count("Dato:") == 2


def test_winners_are_marked_and_amounts_formatted(tmp_path: Path) -> None:
    text = squash(page_texts(protocol_pdf(make_data()), tmp_path)[0])

    assert re.search(r"1 1 Projekt 1 .*? 99 18\.500 kr\. 18\.500 kr\. Ja", text)
    assert re.search(r"3 – Projekt 3 .*? 97 18\.500 kr\. – Nej", text)


def test_without_seed_or_door_count_says_so(tmp_path: Path) -> None:
    text = squash(page_texts(protocol_pdf(replace(make_data(), seed=None, door_count=None)), tmp_path)[0])

    assert "Lodtrækningsfrø (seed) Ikke brugt" in text
    assert "Fremmødte (optalt ved døren) Ikke optalt" in text


def test_long_ballot_and_trace_flow_over_pages_with_header_repeated(tmp_path: Path) -> None:
    pages = page_texts(protocol_pdf(make_data(projects=80, trace=150)), tmp_path)

    assert len(pages) >= 4
    assert all(f"Side {n}" in page for n, page in enumerate(pages, start=1))
    table_pages = [page for page in pages if "Projekt 4" in page or "Projekt 7" in page]
    assert len(table_pages) >= 2 and all("Stemmer" in page and "Bevilget" in page for page in table_pages)
    text = squash(" ".join(pages))
    assert "Projekt 80 –" in text and "150. Forslag 150 (99 stemmer" in text
    assert "Mødeleder" in pages[-1] and "Sagsbehandler" in pages[-1]


def test_trace_lines_are_numbered_once(tmp_path: Path) -> None:
    """The project lines carry their numbers ("2. Fodbold …"); the rule's line has none."""
    text = squash(pdf_text(protocol_pdf(make_data()), tmp_path))

    assert not re.search(r"\b\d+\.\s+\d+\.\s", text), "no line numbered twice ('2. 1. Fodbold')"
    assert not re.search(r"\d+\.\s+Flest stemmer først", text)


def test_an_amount_ending_a_trace_line_has_one_period(tmp_path: Path) -> None:
    """A protocol frozen before the texts were fixed still prints one period after "kr."."""
    data = replace(make_data(), trace_lines=["Metoden med lige andele: hver vælger rådede over 6.476 kr.."])
    text = squash(pdf_text(protocol_pdf(data), tmp_path))

    assert "rådede over 6.476 kr. " in text + " " and "kr.." not in text


def test_signatures_never_stand_alone_on_the_last_page(tmp_path: Path) -> None:
    """Whatever the length of the trace, the signatures share their page with the last section."""
    for trace in range(0, 90, 5):  # before the fix: alone at 0–15 and 65–82 steps
        pages = page_texts(protocol_pdf(make_data(trace=trace)), tmp_path)
        last = squash(pages[-1])
        assert "Mødeleder" in last and "Sagsbehandler" in last
        assert "5. Kontrol" in last and HASH in last, f"signatures alone on page {len(pages)} with {trace} steps"


HEADINGS = ("1. Mødet", "2. Stemmekort og fremmøde", "3. Stemmer og fordeling", "4. Beregningen trin for trin",
            "5. Kontrol", "6. Underskrifter")


def test_no_heading_is_left_at_the_foot_of_a_page(tmp_path: Path) -> None:
    """A section's heading goes over to the next page with the section's first lines."""
    for projects in range(5, 40, 2):  # before the fix: "4. Beregningen trin for trin" ended page 1 at 15
        pages = page_texts(protocol_pdf(make_data(projects=projects, trace=16)), tmp_path)
        for number, page in enumerate(pages[:-1], start=1):
            lines = [line.strip() for line in page.splitlines() if line.strip()]
            body = [line for line in lines if not line.startswith("Protokol for afstemningsmøde ·")]
            assert body[-1] not in HEADINGS, f"{body[-1]!r} alone at the foot of page {number} ({projects} projects)"
