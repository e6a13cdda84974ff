"""Stand posters: one page per stand with number, title, amount, summary and how to vote."""

from __future__ import annotations

from pathlib import Path

from deltager.pdf.posters import StandPoster, posters_pdf
from tests.pdf.poppler import page_texts

MEETING = "Afstemningsmøde – Fællesskab 2025"
STANDS = [
    StandPoster(12, "Fællesspisning for ældre i Åby", "Vi laver mad sammen hver torsdag. Æbler, øl og "
                "kaffe: alle er velkomne – også børn.", 1_850_000),
    StandPoster(3, "Cykelværksted", "Gratis hjælp til at reparere din cykel.", 2_500_050),
    StandPoster(1000, "Lang", "Ord " * 600, 100),
]


def test_one_page_per_stand_with_its_texts(tmp_path: Path) -> None:
    pages = page_texts(posters_pdf(STANDS, meeting_title=MEETING), tmp_path)

    assert len(pages) == 3
    first, second, third = pages
    assert "12" in first and "Fællesspisning for ældre i Åby" in first
    assert "18.500 kr." in first
    assert "Æbler, øl og" in first and "– også børn." in first
    assert "25.000,50 kr." in second and "Cykelværksted" in second
    assert "1000" in third and "1 kr." in third
    assert third.rstrip().endswith("Vote on your phone with your ballot card")
    assert "…" in third  # a summary too long for the page is cut, not run off it
    for page in pages:
        assert MEETING in page
        assert "Stem på din telefon med dit stemmekort" in page


def test_posters_are_deterministic_and_empty_list_says_so(tmp_path: Path) -> None:
    assert posters_pdf(STANDS, meeting_title=MEETING) == posters_pdf(STANDS, meeting_title=MEETING)
    pages = page_texts(posters_pdf([], meeting_title=MEETING), tmp_path)
    assert len(pages) == 1 and "Ingen stande" in pages[0]
