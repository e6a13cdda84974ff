"""Poppler for the PDF tests: pdftoppm and pdftotext turn the bytes back into pixels and text."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

POPPLER_MISSING = "poppler-utils (pdftoppm, pdftotext) is not installed: apt-get install poppler-utils"


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(POPPLER_MISSING)
    return path


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The text of a PDF, page breaks as form feeds, in reading order (pdftotext -layout)."""
    source = tmp_path / "text.pdf"
    source.write_bytes(pdf)
    result = subprocess.run([_require("pdftotext"), "-layout", str(source), "-"],
                            check=True, capture_output=True)
    return result.stdout.decode("utf-8")


def page_texts(pdf: bytes, tmp_path: Path) -> list[str]:
    """The text of each page (pdftotext ends every page with a form feed)."""
    return pdf_text(pdf, tmp_path).split("\f")[:-1]


def pdf_images(pdf: bytes, tmp_path: Path, *, dpi: int = 100) -> list[Path]:
    """Each page of a PDF rendered to a greyscale PNG."""
    source = tmp_path / "render.pdf"
    source.write_bytes(pdf)
    subprocess.run([_require("pdftoppm"), "-r", str(dpi), "-gray", "-png", str(source),
                    str(tmp_path / "page")], check=True)
    return sorted(tmp_path.glob("page-*.png"))
