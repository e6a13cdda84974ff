"""The paper ballot: stand numbers, titles, tick boxes, the min–max rule and the card's number."""

from __future__ import annotations

from pathlib import Path

from deltager.pdf.paper_ballot import PaperBallotLine, paper_ballot_pdf
from tests.pdf.poppler import page_texts, pdf_images

LINES = [
    PaperBallotLine(1, "Skraldecaféen", 1_850_000),
    PaperBallotLine(2, "Fællesspisning for ældre i Åby – hver torsdag", 2_500_050),
    PaperBallotLine(12, "Lektiehjælp i kælderen", 400_000),
]


def _pdf(lines: list[PaperBallotLine], min_choices: int = 2, max_choices: int = 3) -> bytes:
    return paper_ballot_pdf(lines, meeting_title="Afstemningsmøde i Beboerhuset",
                            meeting_when="4. december 2026 kl. 17:00", min_choices=min_choices,
                            max_choices=max_choices)


def test_the_ballot_lists_every_stand_with_its_title_and_says_the_rule(tmp_path: Path) -> None:
    pages = page_texts(_pdf(LINES), tmp_path)
    assert len(pages) == 1
    page = pages[0]
    assert "Stemmeseddel" in page and "Afstemningsmøde i Beboerhuset, 4. december 2026 kl. 17:00" in page
    assert "Sæt kryds ved mindst 2 og højst 3 projekter." in page
    assert "Tick at least 2 and at most 3 projects." in page
    assert "Stemmekortets nummer" in page
    rows = [line for line in page.splitlines() if line.strip().startswith("Stand ")]
    assert [r.split()[1] for r in rows] == ["1", "2", "12"], "one row per stand, in the order given"
    assert "Skraldecaféen" in rows[0] and "18.500 kr." in rows[0]
    assert "Fællesspisning for ældre i Åby – hver torsdag" in rows[1] and "25.000,50 kr." in rows[1]
    assert "kr.." not in page


def test_the_ballot_has_a_tick_box_per_project(tmp_path: Path) -> None:
    from PIL import Image

    def boxes(pdf: bytes) -> int:
        """Dark runs down the tick boxes' left edge (the 18 mm margin: pixel 50 at 72 dpi)."""
        (image_path,) = pdf_images(pdf, tmp_path, dpi=72)
        image = Image.open(image_path).convert("L")
        column = [image.getpixel((50, y)) < 128 for y in range(image.height)]
        return sum(1 for y in range(1, len(column)) if column[y] and not column[y - 1])

    assert boxes(_pdf(LINES)) == 3
    for old in tmp_path.glob("page-*.png"):
        old.unlink()
    assert boxes(_pdf(LINES[:1])) == 1


def test_exactly_n_and_many_projects_over_several_pages(tmp_path: Path) -> None:
    page = page_texts(_pdf(LINES, 2, 2), tmp_path)[0]
    assert "Sæt kryds ved præcis 2 projekter." in page
    many = [PaperBallotLine(n, f"Projekt nummer {n}", 100_000) for n in range(1, 41)]
    pages = page_texts(_pdf(many, 3, 5), tmp_path)
    assert len(pages) > 1
    found = [line.split()[1] for p in pages for line in p.splitlines() if line.strip().startswith("Stand ")]
    assert found == [str(n) for n in range(1, 41)], "every project once, none cut off at a page break"
    assert "fortsat" in pages[1]


def test_the_ballot_is_deterministic_and_an_empty_ballot_says_so(tmp_path: Path) -> None:
    assert _pdf(LINES) == _pdf(LINES)
    assert "Ingen projekter er på stemmesedlen endnu." in page_texts(_pdf([]), tmp_path)[0]
