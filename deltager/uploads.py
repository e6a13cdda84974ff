"""The one upload pipeline: every uploaded file goes through it, whatever it is for.

Uploads are hostile and their cost is bounded before anything is decoded:

1. **Who may upload how often**: uploads are counted per client address and per signed-in person
   in the database (deltager.ratelimit), so the limits hold across workers and hosts.
2. **How large the file is**: at most ``policy.max_bytes``, read no further.
3. **What the header says**: the format (by content, never by name) and the pixel size, read
   without decoding (PIL opens lazily); each format has its own pixel cap (PNG decodes the whole
   image at full size in memory, JPEG can decode at a fraction of it).
4. **How many decodes run at once**: per worker process (a semaphore) and per host (lock files in
   the instance folder, ``flock`` without waiting). When none is free the upload is refused at
   once with "busy, try again in a moment", without decoding.
5. **Decoding**: JPEG in draft mode at the target size (the decoder skips what it would throw
   away), then a fresh image without metadata, re-encoded as JPEG. A PDF (receipts only) is
   parsed, not rendered: refused if encrypted, too long, able to act when opened (scripts,
   launches, attached files) or also a web page; kept as sent and only ever served as an attachment.

A refusal by 1 or 4 must be cheap, because a client that loops uploads gets it over and over:
views that take uploads are marked with :func:`accepts`, which checks both before the request's
body is parsed (a large body: one with a file in it) and answers a short page (429 or 503) instead
of the form. Refusals by 2 and 3 are form errors on the upload's field, so the form keeps what
was typed.

A new kind of upload is one :class:`UploadPolicy` (its formats with their pixel caps, its byte
cap, its target size): :data:`PHOTO` for a project's picture, :data:`RECEIPT` for step 4's
receipts and invoices (pictures or PDFs, up to five at a time, :func:`receive_files`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import fcntl
import functools
import hashlib
import io
import math
import os
import re
import threading
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from flask import Response, current_app, g, render_template, request
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from deltager import ratelimit
from deltager.db import begin_write_now, get_session, utcnow
from deltager.errors import N_, DomainError, ValidationFailed

MB = 1024 * 1024
T = TypeVar("T")
SCOPE_CLIENT = "upload_client"  # uploads per client address (deltager.ratelimit)
SCOPE_PERSON = "upload_person"  # uploads per signed-in person


@dataclass(frozen=True)
class UploadPolicy:
    """One kind of upload: what is accepted and what it becomes."""

    field: str  # the form field (errors are attached to it)
    max_bytes: int
    max_pixels: Mapping[str, int]  # accepted formats (PIL's names) and each one's pixel cap
    target_side: int  # the stored image fits in target_side × target_side
    thumb_side: int = 0  # 0: no thumbnail
    #: A request body larger than this carries a file: the cheap checks run before it is parsed.
    #: (Above what the form's text fields can weigh, so a form without a file is never refused.)
    gate_bytes: int = 128 * 1024
    pdf_max_pages: int = 0  # 0: PDFs are not accepted
    max_files: int = 1
    messages: Mapping[str, str] = field(default_factory=dict)

    @property
    def largest_pixel_cap(self) -> int:
        return max(self.max_pixels.values())


#: A project photo: a phone's JPEG (up to 40 MP, decoded in draft mode at 1/4 or 1/8 of that) or a
#: PNG such as a screenshot (up to 9 MP: a 4K screen; PNG decodes at full size, 4 bytes a pixel).
PHOTO = UploadPolicy(
    field="photo", max_bytes=5 * MB, max_pixels={"JPEG": 40_000_000, "PNG": 9_000_000},
    target_side=1600, thumb_side=400,
    messages={
        "unreadable": N_("The photo could not be read. Choose a JPEG or PNG picture."),
        "too_large": N_("The photo is too large. It can be at most 5 MB."),
        "too_many_pixels": N_("The photo has too many pixels. Choose a smaller picture "
                              "(a photo from a phone is fine)."),
    },
)

#: A receipt or an invoice (step 4): a phone's photo, a screenshot, or a PDF from a scanner or a
#: shop. A photo is stored at 2,000 px on its long side (a 12 MP phone photo decodes at half size,
#: and the print on a till receipt stays readable); a PDF is kept as sent once checked (see
#: :func:`check_pdf`), and only ever served as an attachment. HEIC is not taken: phones' browsers
#: send a JPEG when a file field asks for one, and libheif would be the one native decoder we add.
RECEIPT = UploadPolicy(
    field="files", max_bytes=10 * MB, max_pixels={"JPEG": 40_000_000, "PNG": 9_000_000},
    target_side=2000, thumb_side=400, gate_bytes=64 * 1024, pdf_max_pages=30, max_files=5,
    messages={
        "unreadable": N_("The file could not be read. Choose a photo (JPEG or PNG) or a PDF."),
        "too_large": N_("The file is too large. It can be at most 10 MB."),
        "too_many_pixels": N_("The photo has too many pixels. Choose a smaller picture "
                              "(a photo from a phone is fine)."),
        "pdf_unsafe": N_("The PDF contains scripts, actions or attached files. Print it to a new "
                         "PDF, or take a photo of the receipt."),
        "pdf_encrypted": N_("The PDF is protected by a password. Save it without a password, or "
                            "take a photo of the receipt."),
        "pdf_too_long": N_("The PDF has too many pages. It can have at most 30."),
        "bad_name": N_("The file's name is not valid. Give the file a plain name and try again."),
        "too_many_files": N_("You can add at most 5 files at a time."),
    },
)

# PIL's own guard (a warning, then an error at twice this) backs up the per-format caps: no
# policy accepts more pixels than this.
Image.MAX_IMAGE_PIXELS = max(PHOTO.largest_pixel_cap, RECEIPT.largest_pixel_cap)


@dataclass(frozen=True)
class ProcessedImage:
    """The re-encoded image and its thumbnail (both JPEG; thumbnail empty if the policy has none)."""

    content: bytes
    thumbnail: bytes
    width: int
    height: int


@dataclass(frozen=True)
class Header:
    """What an image file says about itself, read without decoding it."""

    format: str
    width: int
    height: int


class UploadRefused(DomainError):
    """Refused before any decoding, for load: answered with a short page, not the form."""

    status = 503


class UploadLimited(UploadRefused):
    """This client or person has uploaded too much in the window."""

    status = 429

    def __init__(self) -> None:
        super().__init__(N_("You have uploaded many files in a short time. Wait a few minutes and try again."))


class UploadBusy(UploadRefused):
    """Every decode slot is taken."""

    status = 503

    def __init__(self) -> None:
        super().__init__(N_("Many pictures are being uploaded just now. Wait a moment and try again."))


# --------------------------------------------------------------------------- checks without decoding


def _refusal(policy: UploadPolicy, reason: str) -> ValidationFailed:
    return ValidationFailed(policy.messages[reason], field=policy.field)


def read_header(policy: UploadPolicy, data: bytes) -> Header:
    """The format and size from the file's header; ValidationFailed if the file is too large, not
    one of the policy's formats, or over its format's pixel cap. Decodes nothing."""
    if len(data) > policy.max_bytes:
        raise _refusal(policy, "too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(policy.max_pixels)) as image:
                header = Header(str(image.format), *image.size)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _refusal(policy, "too_many_pixels") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise _refusal(policy, "unreadable") from error
    if header.format not in policy.max_pixels or header.width < 1 or header.height < 1:
        raise _refusal(policy, "unreadable")
    if header.width * header.height > policy.max_pixels[header.format]:
        raise _refusal(policy, "too_many_pixels")
    return header


# --------------------------------------------------------------------------- decoding


def process(policy: UploadPolicy, data: bytes) -> ProcessedImage:
    """Check, decode and re-encode an image (the caller holds a decode slot, see :func:`receive`).

    ValidationFailed (on ``policy.field``) if it is not acceptable. Re-encoding drops EXIF
    (location, camera) and anything hidden in the file.
    """
    header = read_header(policy, data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[header.format]) as image:
                if image.format == "JPEG":
                    # Decode at the smallest scale (1/2, 1/4, 1/8) still at least the size stored.
                    image.draft("RGB", _fitted(image.size, policy.target_side))
                image.load()
                upright = ImageOps.exif_transpose(image) or image
                rgb = upright.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _refusal(policy, "too_many_pixels") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise _refusal(policy, "unreadable") from error
    # A fresh image carries no metadata at all.
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    clean.thumbnail((policy.target_side, policy.target_side))
    thumbnail = b""
    if policy.thumb_side:
        thumb = clean.copy()
        thumb.thumbnail((policy.thumb_side, policy.thumb_side))
        thumbnail = _jpeg(thumb, 80)
    return ProcessedImage(_jpeg(clean, 85), thumbnail, clean.width, clean.height)


def _fitted(size: tuple[int, int], side: int) -> tuple[int, int]:
    """``size`` scaled down to fit in side × side (as Image.thumbnail will), never up."""
    width, height = size
    scale = min(1.0, side / max(width, height))
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()


# --------------------------------------------------------------------------- files: a picture or a PDF

PDF_MAGIC = b"%PDF-"
#: A PDF that has any of these can act when opened (scripts, launching programs, forms that send,
#: attached files): a receipt never needs one. (A link, /URI, is allowed: invoices carry a shop's.)
_ACTIVE_PDF_KEYS = frozenset({
    "/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia", "/XFA",
    "/AA", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/Sound", "/Movie",
})
_PDF_MAX_OBJECTS = 50_000  # a receipt has a few hundred; more is a file built to cost us


@dataclass(frozen=True)
class CheckedFile:
    """An uploaded file that passed: what is stored and what the caseworker is shown of it."""

    content: bytes  # a re-encoded JPEG, or the PDF as it was sent
    content_type: str  # "image/jpeg" or "application/pdf"
    name: str  # the file's own name, cleaned, for showing only (it is stored under a random one)
    sha256: str  # of the file as it was sent: the same receipt sent twice has the same one
    size: int  # bytes as sent
    thumbnail: bytes = b""  # a picture's small JPEG
    pages: int = 0  # a PDF's


def clean_name(policy: UploadPolicy, name: str | None) -> str:
    """The file's name as sent, for showing; ValidationFailed for a name no browser sends (empty,
    with a path or a control character): such a file was made by hand, not chosen on a phone."""
    name = unicodedata.normalize("NFC", name or "").strip()
    if (not name or name in {".", ".."} or any(sep in name for sep in "/\\")
            or any(unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co"} and char not in _JOINERS for char in name)):
        raise _refusal(policy, "bad_name")
    return name[-120:]


_JOINERS = "\u200c\u200d"  # zero-width (non-)joiners: part of Persian names and of emoji, not a trick


def check_file(policy: UploadPolicy, name: str | None, data: bytes) -> CheckedFile:
    """Check one file by its content (never its name): a PDF if the policy takes them and it says
    so in its first bytes, else a picture. ValidationFailed (on ``policy.field``) if not
    acceptable. Decodes a picture and parses a PDF: the caller holds a decode slot."""
    shown = clean_name(policy, name)
    if len(data) > policy.max_bytes:
        raise _refusal(policy, "too_large")
    digest = hashlib.sha256(data).hexdigest()
    if policy.pdf_max_pages and data.startswith(PDF_MAGIC):
        if _carries_markup(data):
            raise _refusal(policy, "pdf_unsafe")
        pages = check_pdf(policy, data)
        return CheckedFile(data, "application/pdf", shown, digest, len(data), pages=pages)
    image = process(policy, data)
    return CheckedFile(image.content, "image/jpeg", shown, digest, len(data), thumbnail=image.thumbnail)


_MARKUP_START = re.compile(rb"<(?:html|script|svg|body|iframe|!doctype)", re.IGNORECASE)
_MARKUP_PAIRS = [(re.compile(rb"<" + tag, re.IGNORECASE), re.compile(rb"</" + tag, re.IGNORECASE))
                 for tag in (rb"script", rb"html", rb"svg", rb"iframe")]


def _carries_markup(data: bytes) -> bool:
    """Whether a PDF is also a web page (a polyglot): markup where a browser sniffs (the first
    kilobyte), or an element opened and closed anywhere. (A PDF is only ever served as an
    attachment, not sniffed; this refuses the file before it is kept at all. Compressed data
    matching both halves of a pair by chance is too unlikely to refuse an honest file.)"""
    if _MARKUP_START.search(data, 0, 1024):
        return True
    return any(opening.search(data) and closing.search(data) for opening, closing in _MARKUP_PAIRS)


def check_pdf(policy: UploadPolicy, data: bytes) -> int:
    """The number of pages of a PDF that is safe to keep; ValidationFailed if it is unreadable,
    encrypted, too long, or can act when opened (any object with a key in ``_ACTIVE_PDF_KEYS``, or
    an /OpenAction that is an action rather than a page to show). Every object is read through
    pypdf, which decodes what hides names (``/J#61vaScript``, object streams) and bounds what a
    compressed stream may inflate to; page contents are never decoded."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise _refusal(policy, "pdf_encrypted")
        pages = len(reader.pages)
        if pages < 1:
            raise _refusal(policy, "unreadable")
        if pages > policy.pdf_max_pages:
            raise _refusal(policy, "pdf_too_long")
        if _pdf_acts(reader):
            raise _refusal(policy, "pdf_unsafe")
    except ValidationFailed:
        raise
    except Exception as error:  # pypdf's errors on a broken file are of many kinds; all mean "unreadable"
        raise _refusal(policy, "unreadable") from error
    return pages


def _pdf_acts(reader: PdfReader) -> bool:
    """Whether any object of the PDF can act when the file is opened."""
    ids = {(generation, idnum) for generation, entries in reader.xref.items() for idnum in entries}
    ids |= {(0, idnum) for idnum in reader.xref_objStm}
    if len(ids) > _PDF_MAX_OBJECTS:
        raise ValueError("too many objects")
    roots: list[Any] = [reader.trailer]
    roots += [reader.get_object(IndirectObject(idnum, generation, reader)) for generation, idnum in sorted(ids)]
    return any(_object_acts(root) for root in roots)


def _object_acts(value: Any, depth: int = 0) -> bool:
    """Whether a PDF object (its direct parts; indirect ones are checked on their own) can act."""
    if depth > 64:
        raise ValueError("nested too deeply")
    if isinstance(value, DictionaryObject):
        if any(str(key) in _ACTIVE_PDF_KEYS for key in value):
            return True
        action = value.get("/OpenAction")
        if isinstance(action, DictionaryObject) or (
                isinstance(action, IndirectObject) and isinstance(action.get_object(), DictionaryObject)):
            return True  # an action; an array is only the page to show first
        if value.get("/S") in {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE"}:
            return True
        return any(_object_acts(item, depth + 1) for item in value.values())
    if isinstance(value, ArrayObject):
        return any(_object_acts(item, depth + 1) for item in value)
    return False


# --------------------------------------------------------------------------- decode slots

_worker_slots: dict[int, threading.BoundedSemaphore] = {}
_worker_slots_lock = threading.Lock()


def _worker_semaphore(size: int) -> threading.BoundedSemaphore:
    with _worker_slots_lock:
        if size not in _worker_slots:
            _worker_slots[size] = threading.BoundedSemaphore(size)
        return _worker_slots[size]


def slot_dir() -> Path:
    """Where the host's decode slots (lock files) are: UPLOAD_SLOT_DIR or instance/upload-slots."""
    configured = current_app.config.get("UPLOAD_SLOT_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "upload-slots"


@contextlib.contextmanager
def decode_slot() -> Iterator[None]:
    """Hold one of this worker's and one of this host's decode slots; UploadBusy at once if none
    is free (nobody waits: a waiting request would hold a worker that a ballot needs)."""
    config = current_app.config
    semaphore = _worker_semaphore(int(config["UPLOAD_DECODES_PER_WORKER"]))
    if not semaphore.acquire(blocking=False):
        raise UploadBusy()
    try:
        with _host_slot(slot_dir(), int(config["UPLOAD_DECODES_PER_HOST"]), float(config["UPLOAD_DECODE_DUTY"])):
            yield
    finally:
        semaphore.release()


@contextlib.contextmanager
def _host_slot(directory: Path, slots: int, duty: float = 1.0, clock: Callable[[], float] = time.time) -> Iterator[None]:
    """One of the host's ``slots`` decode slots (a lock file each, ``flock`` without waiting).

    A slot is busy at most ``duty`` of the time: held for t seconds, it then rests for
    t × (1 − duty) / duty (the moment it is free again is written in its lock file, so every worker
    process sees it). A loop of uploads therefore costs the host at most ``duty`` of a core per
    slot, however fast its requests come: the rest are refused at once. Wall time is what is
    measured, so a decode slowed by a busy CPU (a vote) rests longer: ballots go first.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for index in range(slots):
        fd = os.open(directory / f"decode-{index}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            if clock() < _free_at(fd):
                continue  # resting
            started = clock()
            try:
                yield
            finally:
                held = max(0.0, clock() - started)
                _set_free_at(fd, clock() + held * (1 - duty) / duty if duty < 1 else 0.0)
            return
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
    raise UploadBusy()


def host_slot_free(directory: Path, slots: int, clock: Callable[[], float] = time.time) -> bool:
    """Whether one of the host's decode slots is free and not resting just now (a look, no hold)."""
    for index in range(slots):
        try:
            fd = os.open(directory / f"decode-{index}.lock", os.O_RDWR)
        except FileNotFoundError:
            return True  # never used
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            resting = clock() < _free_at(fd)
            fcntl.flock(fd, fcntl.LOCK_UN)
            if not resting:
                return True
        except BlockingIOError:
            pass  # decoding
        finally:
            os.close(fd)
    return False


def _free_at(fd: int) -> float:
    try:
        return float(os.pread(fd, 64, 0).decode("ascii") or 0)
    except ValueError:
        return 0.0


def _set_free_at(fd: int, moment: float) -> None:
    text = f"{moment:.3f}".encode("ascii")
    os.ftruncate(fd, 0)
    os.pwrite(fd, text, 0)


# --------------------------------------------------------------------------- limits per client and person


def _admit(stack: contextlib.ExitStack) -> None:
    """Let one upload through to decoding, or refuse it: UploadLimited if this client or person is
    over the limit (a read), UploadBusy if no decode slot is free (checked first: no database); else
    it takes a slot (held by ``stack``) and is counted. Neither refusal is counted, so a client told "busy" keeps its
    allowance; and neither writes. The count is its own short write transaction, committed before
    any decoding (the request's session, in a ``reads_first`` view, has written nothing yet)."""
    config = current_app.config
    window, now = int(config["UPLOAD_WINDOW_SECONDS"]), utcnow()
    keys = [(SCOPE_CLIENT, request.remote_addr or "unknown", int(config["UPLOAD_LIMIT_PER_CLIENT"]))]
    person = g.get("upload_person")
    if person:
        keys.append((SCOPE_PERSON, person, int(config["UPLOAD_LIMIT_PER_PERSON"])))
    stack.enter_context(decode_slot())  # first: a lock file, no database (the common refusal in a loop)
    session = get_session()
    for scope, key, limit in keys:
        if ratelimit.is_limited(session, scope, key, now, limit=limit, window_seconds=window):
            raise UploadLimited()
    begin_write_now(session)
    counts = [(ratelimit.hit(session, scope, key, now, window_seconds=window), limit) for scope, key, limit in keys]
    session.commit()
    if any(count > limit for count, limit in counts):  # others counted at the same moment
        raise UploadLimited()
    g.upload_admitted = True


def receive(policy: UploadPolicy, storage: Any) -> ProcessedImage | None:
    """The whole pipeline for one uploaded file (a werkzeug FileStorage, or None): None if no file
    was chosen; else counted, checked and decoded. ValidationFailed for a file that is not
    acceptable (a form error); UploadLimited or UploadBusy for load (a short page, see
    :func:`accepts`, which also names the person). Call it with no write lock held (in a
    ``reads_first`` view)."""
    data = storage.read(policy.max_bytes + 1) if hasattr(storage, "read") else b""
    if not data:
        return None
    read_header(policy, data)
    return _in_decode_slot(process, policy, data)


def receive_files(policy: UploadPolicy, storages: list[Any]) -> list[CheckedFile]:
    """The whole pipeline for the files of one form field (werkzeug FileStorages): [] if none was
    chosen; else counted, checked cheaply (count, name, size, a picture's header, a PDF's first
    bytes), then decoded or parsed, all in one decode slot. ValidationFailed for the first file
    that is not acceptable (its ``file_name`` says which); UploadLimited or UploadBusy for load.
    Call it with no write lock held (in a ``reads_first`` view): nothing here writes but the count."""
    sent = []
    for storage in storages:
        data = storage.read(policy.max_bytes + 1) if hasattr(storage, "read") else b""
        name = getattr(storage, "filename", None)
        if data or name:
            sent.append((name, data))
    if len(sent) > policy.max_files:
        raise _refusal(policy, "too_many_files")
    for name, data in sent:
        with _naming(name):
            clean_name(policy, name)
            if not data:
                raise _refusal(policy, "unreadable")
            if not (policy.pdf_max_pages and data.startswith(PDF_MAGIC)):
                read_header(policy, data)
            elif len(data) > policy.max_bytes:
                raise _refusal(policy, "too_large")
    if not sent:
        return []
    return _in_decode_slot(_check_all, policy, sent)


def _check_all(policy: UploadPolicy, sent: list[tuple[str | None, bytes]]) -> list[CheckedFile]:
    checked = []
    for name, data in sent:
        with _naming(name):
            checked.append(check_file(policy, name, data))
    return checked


@contextlib.contextmanager
def _naming(name: str | None) -> Iterator[None]:
    """A ValidationFailed raised inside says which file it is about (``file_name``)."""
    try:
        yield
    except ValidationFailed as error:
        error.file_name = name or ""  # type: ignore[attr-defined]
        raise


def _in_decode_slot(work: Callable[..., T], *args: Any) -> T:
    """Run ``work(*args)`` holding a decode slot (taken by the view's gate, or here), in the
    low-priority decode thread unless UPLOAD_DECODE_NICE is 0; UploadBusy if it outlasts the wait."""
    with contextlib.ExitStack() as stack:
        if not g.get("upload_admitted"):  # a small body, which the view's gate let by
            _admit(stack)
        nice = int(current_app.config["UPLOAD_DECODE_NICE"])
        if not nice:
            return work(*args)
        # The slot is handed to the decode, which releases it when it ends (a decode that outlasts
        # the wait still holds its memory, so it still holds its slot).
        future = _decoder(nice).submit(_process_then_release, stack.pop_all(), work, *args)
    try:
        return future.result(timeout=float(current_app.config["UPLOAD_DECODE_TIMEOUT_SECONDS"]))
    except concurrent.futures.TimeoutError:
        raise UploadBusy() from None


def _process_then_release(slot: contextlib.ExitStack, work: Callable[..., T], *args: Any) -> T:
    """In the decode thread: the slot is free again before the request hears the result."""
    with slot:
        return work(*args)


_decoders: dict[tuple[int, int], concurrent.futures.ThreadPoolExecutor] = {}


def _decoder(nice: int) -> concurrent.futures.ThreadPoolExecutor:
    """This process's decode thread, at a lower CPU priority than the requests': while the CPU is
    busy (a vote), ballots go first and pictures take the time left over. One per process (its
    threads do not survive a fork, so the key has the pid); the slots bound how many decode."""
    key = (os.getpid(), nice)
    with _worker_slots_lock:
        if key not in _decoders:
            _decoders[key] = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="upload-decode", initializer=_lower_priority, initargs=(nice,))
        return _decoders[key]


def _lower_priority(nice: int) -> None:
    """Lower this thread's priority (on Linux, a thread's nice value is its own)."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)


# --------------------------------------------------------------------------- views that take uploads

V = TypeVar("V", bound=Callable[..., Any])


def accepts(policy: UploadPolicy, person: Callable[[], str | None]) -> Callable[[V], V]:
    """Mark a view that takes uploads (a POST with a file goes through :func:`receive`).

    Before the request's body is parsed (and before CSRF, which parses it: the view is exempt from
    the global check and checked here instead), a POST whose body is large enough to carry a file
    is counted against the limits and takes a decode slot for the rest of the request; a refusal
    is a short 429 or 503 page. ``person`` names the signed-in person (e.g. "applicant:12").
    Put it below the decorators that check who is signed in.
    """

    def decorate(view: V) -> V:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            from deltager import csrf

            with contextlib.ExitStack() as stack:
                try:
                    g.upload_person = person()
                    if request.method == "POST" and (request.content_length or 0) > policy.gate_bytes:
                        _admit(stack)
                    config = current_app.config
                    if config["WTF_CSRF_ENABLED"] and config["WTF_CSRF_CHECK_DEFAULT"]:
                        csrf.protect()  # as the global check would have, after the cheap refusals
                    return view(*args, **kwargs)
                except UploadRefused as error:
                    return refused_page(error)

        from deltager import csrf

        csrf.exempt(wrapped)  # checked in ``wrapped``, after the cheap refusals
        wrapped.upload_policy = policy  # type: ignore[attr-defined]  # found by BusyGate
        return wrapped  # type: ignore[return-value]

    return decorate


def refused_page(error: UploadRefused) -> Response:
    """The short answer to a refused upload: no form, no database, a few hundred bytes.

    The body is read and thrown away unparsed (a socket read, no multipart parsing): a server that
    closes a connection with unread data resets it, and the browser would show an error instead."""
    while request.stream.read(256 * 1024):
        pass
    response = Response(render_template("uploads/refused.html", error=error), status=error.status,
                        mimetype="text/html")
    response.headers["Retry-After"] = "300" if isinstance(error, UploadLimited) else "5"
    return response


# --------------------------------------------------------------------------- the gate before Flask

_BUSY_PAGE = """<!doctype html>
<html lang="da">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Prøv igen om et øjeblik</title><link rel="stylesheet" href="{static}/css/deltager.css"></head>
<body><main class="container">
<h1>Prøv igen om et øjeblik</h1>
<p>Mange billeder bliver lagt op lige nu. Intet blev gemt. Gå tilbage til formularen, og prøv igen om lidt.</p>
<div lang="en"><h2>Try again in a moment</h2>
<p>Many pictures are being uploaded just now. Nothing was saved. Go back to the form and try again shortly.</p></div>
</main></body></html>
"""
_DRAIN_AT_MOST = 16 * MB  # a body larger than this is not read: the connection is closed


class BusyGate:
    """WSGI middleware: a POST that carries a file (a body over the view's ``gate_bytes``) to a view
    marked with :func:`accepts`, while every decode slot of the host is busy or resting, is answered
    503 here, before Flask: no session, no database, no template. A client that loops uploads
    gets this answer most of the time, so it must cost next to nothing (measured: about 4 ms of
    CPU a refusal through Flask; see the README's figures). Whether a slot is free is only looked
    at here; :func:`decode_slot` still takes it in the view, so a race only lets a request reach
    the view's own check."""

    def __init__(self, app: Any, wsgi_app: Callable[..., Any]) -> None:
        self.wsgi_app = wsgi_app
        self.adapter = app.url_map.bind("localhost")
        self.gates = {endpoint: view.upload_policy.gate_bytes for endpoint, view in app.view_functions.items()
                      if hasattr(view, "upload_policy")}
        config = app.config
        self.directory = Path(config.get("UPLOAD_SLOT_DIR") or Path(app.instance_path) / "upload-slots")
        self.slots = int(config["UPLOAD_DECODES_PER_HOST"])
        self.static = app.static_url_path

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") == "POST" and self._carries_file(environ) \
                and not host_slot_free(self.directory, self.slots):
            return self._busy(environ, start_response)
        return self.wsgi_app(environ, start_response)

    def _carries_file(self, environ: dict[str, Any]) -> bool:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            endpoint, _ = self.adapter.match(environ.get("PATH_INFO", ""), method="POST")
        except Exception:  # not a route, another method, a bad header: Flask answers it
            return False
        return endpoint in self.gates and length > self.gates[endpoint]

    def _busy(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Retry-After", "5"),
                   ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
                   ("Content-Security-Policy", "default-src 'none'; style-src 'self'")]
        if length <= _DRAIN_AT_MOST:  # read and thrown away, so the browser shows the page
            stream = environ["wsgi.input"]
            while length > 0:
                chunk = stream.read(min(length, MB))
                if not chunk:
                    break
                length -= len(chunk)
        else:
            headers.append(("Connection", "close"))
        body = _BUSY_PAGE.format(static=environ.get("SCRIPT_NAME", "") + self.static).encode()
        start_response("503 Service Unavailable", [*headers, ("Content-Length", str(len(body)))])
        return [body]
