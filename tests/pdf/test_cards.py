"""Ballot cards: the QR codes on the printed sheets decode back to the cards' URLs."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from deltager.pdf.cards import CardPrint, cards_pdf
from deltager.pdf.drawing import qr_matrix
from tests.pdf.poppler import page_texts, pdf_images

zxingcpp = pytest.importorskip("zxingcpp", reason="the QR decoder zxing-cpp is not installed (pip install zxing-cpp)")
from PIL import Image  # noqa: E402  (after the skip: only needed with the decoder)

TITLE = "Afstemningsmøde – Fællesskab i Gellerup og Toveshøj"
WHEN = "Tirsdag 14. oktober 2025 kl. 17.00–20.00"


def make_cards(count: int) -> list[CardPrint]:
    """Cards with realistic URLs: a 256-bit token as the voting app issues them."""
    return [CardPrint(serial=f"{n:04d}", url=f"https://deltager.aarhus.dk/v/{secrets.token_urlsafe(32)}")
            for n in range(1, count + 1)]


def decode_all(pdf: bytes, tmp_path: Path) -> list[str]:
    """Every QR code found on every page, in page order."""
    found: list[str] = []
    for image in pdf_images(pdf, tmp_path):
        with Image.open(image) as picture:
            found.extend(code.text for code in zxingcpp.read_barcodes(picture)
                         if code.format == zxingcpp.BarcodeFormat.QRCode)
    return found


def test_qr_codes_decode_to_the_card_urls(tmp_path: Path) -> None:
    cards = make_cards(10)
    pdf = cards_pdf(cards, meeting_title=TITLE, meeting_when=WHEN)

    decoded = decode_all(pdf, tmp_path)

    assert sorted(decoded) == sorted(card.url for card in cards)  # each exactly once


def test_eight_cards_per_page_with_serials_title_and_instructions(tmp_path: Path) -> None:
    cards = make_cards(10)
    pages = page_texts(cards_pdf(cards, meeting_title=TITLE, meeting_when=WHEN), tmp_path)

    assert len(pages) == 2
    for serial in ("0001", "0008"):
        assert serial in pages[0]
    for serial in ("0009", "0010"):
        assert serial in pages[1] and serial not in pages[0]
    assert pages[0].count("Stemmekort / Ballot card") == 8
    assert pages[1].count("Scan koden med din telefon") == 2
    text = "\n".join(pages)
    assert "Afstemningsmøde – Fællesskab i Gellerup" in text
    assert "Tirsdag 14. oktober 2025" in text and "17.00–20.00" in text
    assert "Vælg de projekter, du vil stemme på" in text
    assert "Tryk «Stem» – kortet kan kun bruges én gang" in text
    assert "Press «Vote» – the card works once" in text
    assert "Choose the projects you vote for" in text


def test_same_cards_give_the_same_bytes() -> None:
    cards = make_cards(3)

    first = cards_pdf(cards, meeting_title=TITLE, meeting_when=WHEN)

    assert first.startswith(b"%PDF-")
    assert cards_pdf(cards, meeting_title=TITLE, meeting_when=WHEN) == first


def test_no_cards_gives_one_page_that_says_so(tmp_path: Path) -> None:
    pages = page_texts(cards_pdf([], meeting_title=TITLE, meeting_when=WHEN), tmp_path)

    assert len(pages) == 1
    assert "Ingen stemmekort" in pages[0]


def test_qr_code_uses_medium_error_correction_and_a_quiet_zone() -> None:
    matrix = qr_matrix("https://deltager.aarhus.dk/v/" + "x" * 43)

    assert not any(matrix[0]) and not any(matrix[3]) and not any(row[0] for row in matrix)
    assert any(matrix[4])
    # Version 5 (37 modules) + 2 × 4 quiet modules: M correction, not L (version 4) or H (version 7).
    assert len(matrix) == 37 + 8
