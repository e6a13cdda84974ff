"""Receipts and invoices through the one upload pipeline (deltager/uploads.py, ``RECEIPT``).

Issue 16, acceptance 3: uploads are hostile until proven otherwise. A corpus of bad files, built
here byte by byte (nothing binary is committed), is refused with a clear Danish message and no
crash; good files from phones and scanners are taken; a picture is stored re-encoded without its
EXIF, a PDF as sent; names are only ever shown, never used to store.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import pytest
from flask import Flask
from PIL import Image
from pypdf import PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from werkzeug.datastructures import FileStorage

from deltager import uploads
from deltager.errors import ValidationFailed
from deltager.uploads import RECEIPT

# --------------------------------------------------------------------------- building files


def jpeg(size: tuple[int, int] = (800, 600), **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 190, 170)).save(out, format="JPEG", quality=85, **save)
    return out.getvalue()


def png(size: tuple[int, int] = (390, 844)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (255, 255, 255)).save(out, format="PNG")
    return out.getvalue()


def other_image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(out, format=fmt)
    return out.getvalue()


def pdf(*, catalog: str = "", objects: tuple[str, ...] = (), pages: int = 1, header: bytes = b"%PDF-1.7\n") -> bytes:
    """A small PDF written by hand, so a test can put any object in it: ``catalog`` is added to
    the catalog's dictionary, ``objects`` become objects 4, 5, … (refer to them as ``4 0 R``)."""
    kids = " ".join(f"{10 + i} 0 R" for i in range(pages))
    body = [f"<< /Type /Catalog /Pages 2 0 R {catalog} >>", f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>",
            "<< /Producer (test) >>", *objects]
    numbered = {i + 1: text for i, text in enumerate(body)}
    for i in range(pages):
        numbered[10 + i] = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"
    out = bytearray(header + b"%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(numbered):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n{numbered[number]}\nendobj\n".encode("latin-1")
    size = max(numbered) + 1
    xref = len(out)
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    for number in range(1, size):
        out += (f"{offsets[number]:010d} 00000 n \n" if number in offsets else "0000000000 65535 f \n").encode()
    out += f"trailer\n<< /Size {size} /Root 1 0 R /Info 3 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def shop_invoice_pdf() -> bytes:
    """An invoice as a shop's till system or a word processor makes it: text, a link."""
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.setTitle("Faktura 1042")
    page.drawString(72, 760, "Faktura 1042 · Byggemarked Nord · CVR 12345678")
    page.drawString(72, 740, "Maling og pensler: 1.234,50 kr.")
    page.linkURL("https://example.dk", (72, 700, 200, 720))
    page.save()
    return out.getvalue()


def scanned_pdf() -> bytes:
    """A scanner's PDF: one page that is a picture."""
    out = io.BytesIO()
    Image.new("RGB", (1240, 1754), (250, 250, 245)).save(out, format="PDF", resolution=150)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt("hemmelig")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real JPEG whose header (SOF0) is rewritten to claim another size."""
    data = bytearray(jpeg((16, 16)))
    at = data.index(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def png_bomb() -> bytes:
    """10,000 × 10,000 px of one colour in a few tens of kilobytes (written row by row)."""
    width = height = 10_000
    raw = zlib.compressobj(9)
    body = b"".join(raw.compress(b"\x00" + b"\x00" * width) for _ in range(height)) + raw.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def many_objects_pdf() -> bytes:
    return pdf(objects=tuple("<< /N 1 >>" for _ in range(50_001)))


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 50 + b"PE\x00\x00" + b"\x00" * 200
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 200
ZIP = b"PK\x03\x04" + b"\x00" * 100
JS_ACTION = "<< /Type /Action /S /JavaScript /JS (app.alert\\(1\\)) >>"

#: (what it is, its name, a function that makes it, the message it must get)
BAD: list[tuple[str, str, Callable[[], bytes], str]] = [
    ("HTML renamed .pdf", "kvittering.pdf", lambda: HTML, "unreadable"),
    ("HTML renamed .jpg", "kvittering.jpg", lambda: HTML, "unreadable"),
    ("SVG renamed .jpg", "kvittering.jpg", lambda: SVG, "unreadable"),
    ("SVG renamed .png", "skaermbillede.png", lambda: SVG, "unreadable"),
    ("Windows program renamed .pdf", "faktura.pdf", lambda: EXE, "unreadable"),
    ("Windows program renamed .jpg", "kvittering.jpg", lambda: EXE, "unreadable"),
    ("Linux program renamed .jpg", "kvittering.jpg", lambda: ELF, "unreadable"),
    ("ZIP renamed .jpg", "kvittering.jpg", lambda: ZIP, "unreadable"),
    ("GIF (not taken)", "kvittering.gif", lambda: other_image("GIF"), "unreadable"),
    ("BMP (not taken)", "kvittering.bmp", lambda: other_image("BMP"), "unreadable"),
    ("TIFF (not taken)", "scan.tif", lambda: other_image("TIFF"), "unreadable"),
    ("WebP (not taken)", "kvittering.webp", lambda: other_image("WEBP"), "unreadable"),
    ("a web page, then a PDF", "faktura.pdf", lambda: HTML + pdf(), "unreadable"),
    ("a PDF that is also a web page", "faktura.pdf", lambda: pdf(header=b"%PDF-1.7\n%<html><script>x</script>\n"), "pdf_unsafe"),
    ("a PDF with a web page inside", "faktura.pdf", lambda: pdf(objects=("(<script>alert(1)</script>)",)), "pdf_unsafe"),
    ("truncated JPEG", "kvittering.jpg", lambda: jpeg()[:300], "unreadable"),
    ("truncated PNG", "kvittering.png", lambda: png()[:40], "unreadable"),
    ("truncated PDF", "faktura.pdf", lambda: shop_invoice_pdf()[:200], "unreadable"),
    ("PDF header and nothing else", "faktura.pdf", lambda: b"%PDF-1.7\n%%EOF\n", "unreadable"),
    ("PDF with no pages", "faktura.pdf", lambda: pdf(pages=0), "unreadable"),
    ("PDF running JavaScript when opened", "faktura.pdf", lambda: pdf(catalog="/OpenAction 4 0 R", objects=(JS_ACTION,)), "pdf_unsafe"),
    ("PDF with document JavaScript", "faktura.pdf",
     lambda: pdf(catalog="/Names << /JavaScript 4 0 R >>", objects=("<< /Names [(a) 5 0 R] >>", JS_ACTION)), "pdf_unsafe"),
    ("PDF with JavaScript under an escaped name", "faktura.pdf",
     lambda: pdf(catalog="/OpenAction << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>"), "pdf_unsafe"),
    ("PDF launching a program", "faktura.pdf",
     lambda: pdf(catalog="/OpenAction << /S /Launch /F (cmd.exe) >>"), "pdf_unsafe"),
    ("PDF with an attached file", "faktura.pdf",
     lambda: pdf(catalog="/Names << /EmbeddedFiles 4 0 R >>", objects=("<< /Names [] >>",)), "pdf_unsafe"),
    ("PDF with actions on a page event", "faktura.pdf", lambda: pdf(catalog="/AA << /WC 4 0 R >>", objects=(JS_ACTION,)), "pdf_unsafe"),
    ("PDF with an XFA form", "faktura.pdf", lambda: pdf(catalog="/AcroForm << /Fields [] /XFA 4 0 R >>", objects=("(x)",)), "pdf_unsafe"),
    ("PDF sending a form", "faktura.pdf", lambda: pdf(catalog="/OpenAction << /S /SubmitForm /F (http://x) >>"), "pdf_unsafe"),
    ("encrypted PDF", "faktura.pdf", encrypted_pdf, "pdf_encrypted"),
    ("PDF of 31 pages", "faktura.pdf", lambda: pdf(pages=31), "pdf_too_long"),
    ("PDF of 50,001 objects", "faktura.pdf", many_objects_pdf, "unreadable"),
    ("PNG decompression bomb", "kvittering.png", png_bomb, "too_many_pixels"),
    ("JPEG claiming 60,000 × 60,000 px", "kvittering.jpg", lambda: jpeg_claiming(60_000, 60_000), "too_many_pixels"),
    ("JPEG claiming 0 × 0 px", "kvittering.jpg", lambda: jpeg_claiming(0, 0), "unreadable"),
    ("oversize file", "kvittering.jpg", lambda: jpeg() + b"\x00" * (10 * uploads.MB), "too_large"),
    ("empty file", "kvittering.jpg", lambda: b"", "unreadable"),
    ("a name climbing out of its folder", "../../etc/passwd.jpg", jpeg, "bad_name"),
    ("a Windows path as a name", "..\\..\\boot.ini.jpg", jpeg, "bad_name"),
    ("an empty name", "", jpeg, "bad_name"),
    ("a NUL in the name", "kvittering.jpg\x00.exe", jpeg, "bad_name"),
    ("a right-to-left override hiding .exe", "kvittering\u202egpj.exe", jpeg, "bad_name"),
]


def test_the_corpus_is_large_enough() -> None:
    assert len(BAD) >= 30


# --------------------------------------------------------------------------- bad files


@pytest.fixture
def receipts_app(app: Flask) -> Flask:
    app.config["UPLOAD_DECODE_NICE"] = 0  # in the request's thread, so a crash would show here
    return app


@pytest.mark.parametrize(("what", "name", "make", "reason"), BAD, ids=[what for what, *_ in BAD])
def test_a_bad_file_is_refused_with_a_clear_danish_message(
    receipts_app: Flask, what: str, name: str, make: Callable[[], bytes], reason: str,
) -> None:
    data = make()
    with receipts_app.test_request_context("/", method="POST", headers={"Accept-Language": "da"}):
        with pytest.raises(ValidationFailed) as refused:
            uploads.receive_files(RECEIPT, [FileStorage(io.BytesIO(data), filename=name)])
        from deltager.web import translate_error

        shown = translate_error(refused.value)
    assert refused.value.message == RECEIPT.messages[reason], what
    assert refused.value.field == "files"
    assert shown != refused.value.message, f"{what}: the message has no Danish translation"
    assert getattr(refused.value, "file_name", None) == name


def test_more_than_five_files_are_refused_before_any_is_read(receipts_app: Flask) -> None:
    files = [FileStorage(io.BytesIO(jpeg()), filename=f"k{i}.jpg") for i in range(6)]
    with receipts_app.test_request_context("/", method="POST"), pytest.raises(ValidationFailed) as refused:
        uploads.receive_files(RECEIPT, files)
    assert refused.value.message == RECEIPT.messages["too_many_files"]


# --------------------------------------------------------------------------- good files


def phone_photo() -> bytes:
    """A 12-megapixel phone photo, taken sideways (EXIF orientation 6), with a GPS position."""
    image = Image.new("RGB", (4000, 3000), (240, 235, 220))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° to show
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (55.0, 40.0, 30.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90, exif=exif)
    return out.getvalue()


GOOD: list[tuple[str, str, Callable[[], bytes], str]] = [
    ("a phone's photo", "IMG_2041.JPG", phone_photo, "image/jpeg"),
    ("a phone's screenshot", "Skærmbillede 2026-12-05.png", lambda: png((1170, 2532)), "image/png"),
    ("a shop's PDF invoice with a link", "Faktura_1042.pdf", shop_invoice_pdf, "application/pdf"),
    ("a scanner's PDF", "scan0001.pdf", scanned_pdf, "application/pdf"),
    ("a PDF that opens at a page (an array, not an action)", "kvittering.pdf",
     lambda: pdf(catalog="/OpenAction [10 0 R /Fit]"), "application/pdf"),
    ("a name in Persian with a zero-width non-joiner", "رسید\u200cخرید.jpg", jpeg, "image/jpeg"),
]


@pytest.mark.parametrize(("what", "name", "make", "kind"), GOOD, ids=[what for what, *_ in GOOD])
def test_a_good_file_is_taken(receipts_app: Flask, what: str, name: str, make: Callable[[], bytes], kind: str) -> None:
    data = make()
    with receipts_app.test_request_context("/", method="POST"):
        [checked] = uploads.receive_files(RECEIPT, [FileStorage(io.BytesIO(data), filename=name)])
    assert checked.name == name
    assert checked.size == len(data)
    if kind == "application/pdf":
        assert checked.content_type == "application/pdf"
        assert checked.content == data, "a PDF is kept as it was sent"
        assert checked.pages == 1
    else:
        assert checked.content_type == "image/jpeg", "every picture is stored re-encoded as JPEG"
        assert checked.thumbnail


def test_a_phone_photo_is_upright_small_enough_and_carries_no_exif(receipts_app: Flask) -> None:
    with receipts_app.test_request_context("/", method="POST"):
        [checked] = uploads.receive_files(RECEIPT, [FileStorage(io.BytesIO(phone_photo()), filename="IMG.JPG")])
    stored = Image.open(io.BytesIO(checked.content))
    assert stored.size == (1500, 2000), "turned upright (EXIF 6) and at most 2,000 px on its long side"
    assert not stored.getexif(), "no EXIF: no position, no camera"
    assert b"PhoneMaker" not in checked.content


def test_a_picture_with_a_web_page_behind_it_is_stored_without_it(receipts_app: Flask) -> None:
    """A polyglot picture (a JPEG, then HTML) is decoded and written anew: nothing after the
    picture survives."""
    with receipts_app.test_request_context("/", method="POST"):
        [checked] = uploads.receive_files(RECEIPT, [FileStorage(io.BytesIO(jpeg() + HTML), filename="k.jpg")])
    assert b"<script" not in checked.content


def test_the_same_file_has_the_same_fingerprint_whatever_its_name(receipts_app: Flask) -> None:
    data = jpeg()
    with receipts_app.test_request_context("/", method="POST"):
        first, second = uploads.receive_files(
            RECEIPT, [FileStorage(io.BytesIO(data), filename="a.jpg"), FileStorage(io.BytesIO(data), filename="b.jpg")])
    assert first.sha256 == second.sha256
    assert len(first.sha256) == 64


def test_no_file_chosen_is_no_file(receipts_app: Flask) -> None:
    with receipts_app.test_request_context("/", method="POST"):
        assert uploads.receive_files(RECEIPT, [FileStorage(io.BytesIO(b""), filename="")]) == []
