"""Uploading clients for ``make bench``: votes per second while clients upload the heaviest file the
service accepts, in a loop (issue 14, points 2 and 29).

Each client is a citizen with a draft application: it signs in with a link (the token made with the
product's own service, as the e-mail would carry it), opens its draft's form and POSTs the form
with the file again and again, as a browser would, until the vote run ends. Every answer counts:
303 (stored), 400 (the form refused it), 429 (limit per person or client), 503 (every decode slot
busy). The second vote run alternates phases without and with the uploaders (:func:`while_uploading`),
so that both sides of the ratio see the same background load of a shared machine.

The heaviest file accepted is a PNG at the PNG pixel cap (9 MP, RGBA: PNG has no draft mode and
decodes at full size): about 0.4 s of CPU to decode and re-encode, against about 0.2 s for a
40 MP JPEG at the JPEG cap (decoded in draft mode). :func:`heaviest_file` builds it and checks that
the service accepts it.
"""

from __future__ import annotations

import datetime as dt
import http.client
import io
import math
import multiprocessing
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from PIL import Image
from sqlalchemy.orm import Session

from deltager import uploads
from deltager.applications.models import Application, ApplicationStatus
from deltager.db import begin_write, make_engine
from deltager.rounds.models import Round, RoundStatus
from deltager.citizens import services as citizens
from harness import Stats

FORM_FIELDS = {
    "title": "Strikkeklub", "summary": "Vi strikker.", "what": "Strik", "for_whom": "Alle", "where": "Biblioteket",
    "when": "Tirsdage", "applicant_type": "person", "contact_name": "Bench", "contact_phone": "11223344",
    "requested": "8.000", "involves_children": "no", "action": "save",
}


def heaviest_file() -> tuple[bytes, str]:
    """The costliest file to decode that the photo policy accepts, and a short description."""
    cap = uploads.PHOTO.max_pixels["PNG"]
    side = math.isqrt(cap)
    noise = Image.effect_noise((side // 4, side // 4), 60).resize((side, side), Image.Resampling.NEAREST)
    gradient = Image.linear_gradient("L").resize((side, side))
    image = Image.merge("RGBA", (noise, gradient, Image.blend(noise, gradient, 0.5), gradient))
    out = io.BytesIO()
    image.save(out, format="PNG")
    data = out.getvalue()
    uploads.read_header(uploads.PHOTO, data)  # raises if the service would not accept it
    return data, f"PNG {side}×{side} RGBA, {len(data) / 1e6:.1f} MB"


@dataclass(frozen=True)
class Uploader:
    """A citizen with a draft: a sign-in token and the draft's id."""

    token: str
    application_id: int


def prepare(database_url: str, clients: int) -> list[Uploader]:
    """A round open for applications, and ``clients`` citizens each with a draft and a sign-in token."""
    engine = make_engine(database_url)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    uploaders: list[Uploader] = []
    with Session(engine, expire_on_commit=False) as session:
        begin_write(session)
        round_ = Round(
            title="Benchmark uploads", theme="Fællesskab", pot_ore=200_000_00, cap_ore=25_000_00,
            funding_source="§ 18-midler", applications_open_at=now - dt.timedelta(days=1),
            applications_close_at=now + dt.timedelta(days=30), voting_on=(now + dt.timedelta(days=40)).date(),
            project_deadline=(now + dt.timedelta(days=365)).date(),
            report_deadline=(now + dt.timedelta(days=400)).date(), status=RoundStatus.OPEN,
        )
        session.add(round_)
        session.flush()
        for n in range(clients):
            applicant, token = citizens.request_sign_in_link(
                session, f"uploader-{n}-{uuid.uuid4().hex[:8]}@example.org", now, client="bench",
                max_per_client=10_000, client_window_seconds=60)
            application = Application(round_id=round_.id, applicant_id=applicant.id, status=ApplicationStatus.DRAFT,
                                      title="Strikkeklub", created_at=now, updated_at=now)
            session.add(application)
            session.flush()
            uploaders.append(Uploader(token, application.id))
        session.commit()
    engine.dispose()
    return uploaders


@dataclass
class UploadStats:
    """What the uploading clients got back."""

    answers: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, answer: str, took: float) -> None:
        with self.lock:
            self.answers[answer] += 1
            self.latencies.append(took)


class Browser:
    """One client: a connection per request (sync workers close it anyway) and a cookie jar."""

    def __init__(self, port: int, origin: str) -> None:
        self.port, self.origin = port, origin
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str = "") -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        if body is not None:
            headers |= {"Content-Type": content_type, "Origin": self.origin}
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, text


def _csrf(page: str) -> str:
    import voting_setup

    return voting_setup.csrf_token(page)


def _multipart(fields: dict[str, str], file_field: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="billede.png"\r\n'
                 f"Content-Type: image/png\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _upload_loop(port: int, origin: str, uploader: Uploader, data: bytes, stats: UploadStats,
                 active: Any, idle: Any, stop: Any) -> None:
    """One client's loop; ``active``, ``idle`` and ``stop`` are the conductor's (multiprocessing) event,
    semaphore and event."""
    browser = Browser(port, origin)
    path = f"/apply/sign-in/{uploader.token}"
    status, page = browser.request("GET", path)
    status, _ = browser.request("POST", path, f"csrf_token={_csrf(page)}".encode(), "application/x-www-form-urlencoded")
    if status != 303:
        stats.add(f"sign-in failed: HTTP {status}", 0.0)
        return
    edit = f"/apply/{uploader.application_id}/edit"
    status, page = browser.request("GET", edit)
    body, content_type = _multipart({**FORM_FIELDS, "csrf_token": _csrf(page)}, "photo", data)
    while not stop.is_set():
        if not active.is_set():
            idle.release()  # tell the conductor this client has no request in flight
            while not active.wait(0.05):
                if stop.is_set():
                    return
            continue
        started = time.perf_counter()
        try:
            status, _ = browser.request("POST", edit, body, content_type)
        except (OSError, http.client.HTTPException) as error:
            stats.add(type(error).__name__, time.perf_counter() - started)
            continue
        stats.add(f"HTTP {status}", time.perf_counter() - started)


@dataclass
class Interleaved:
    """The vote in alternating phases without and with the uploaders, so that both sides see the
    same background load of a shared machine (a run of each in turn did not: the rate without
    uploads moved between 76 and 133 votes/s from one run to the next)."""

    without: Stats
    beside: Stats
    confirmed: list[str]
    uploads: UploadStats
    file: str
    uploaders_cpu_s: float = 0.0  # the uploading clients' own CPU (their process), for the report

    @property
    def ratio(self) -> float | None:
        return self.beside.rate / self.without.rate if self.without.rate else None


def _add(total: Stats, part: Stats) -> None:
    total.merge(part)
    total.elapsed += part.elapsed


def _uploaders_process(port: int, origin: str, uploaders: list[Uploader], data: bytes, active: Any, idle: Any,
                       stop: Any, out: Any) -> None:
    """The uploading clients, in a process of their own: their threads do not take the load
    driver's GIL from the 64 phones (in one process they did, and the phones slowed down for a
    reason of the driver, not of the service). At the end: the answers, the latencies and this
    process's CPU seconds."""
    stats = UploadStats()
    started = time.process_time()
    threads = [threading.Thread(target=_upload_loop, args=(port, origin, u, data, stats, active, idle, stop), daemon=True)
               for u in uploaders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put((dict(stats.answers), stats.latencies, time.process_time() - started))


def while_uploading(port: int, origin: str, database_url: str, clients: int,
                    vote: Callable[[float], tuple[Stats, list[str]]], seconds: float, phases: int = 6) -> Interleaved:
    """Vote for ``seconds`` in ``phases`` alternating phases, half of them while ``clients`` clients
    upload the heaviest accepted file in a loop. A phase without uploads starts only when every
    uploader has its last answer (its decode may still finish on the server: bounded, and it
    counts against the phase without uploads). The uploaders run in a process of their own
    (:func:`_uploaders_process`), as they would on phones of their own."""
    data, description = heaviest_file()
    uploaders = prepare(database_url, clients)
    context = multiprocessing.get_context("spawn")
    active, stop, idle, out = context.Event(), context.Event(), context.Semaphore(0), context.Queue()
    process = context.Process(target=_uploaders_process, args=(port, origin, uploaders, data, active, idle, stop, out),
                              daemon=True)
    process.start()
    stats = UploadStats()
    result = Interleaved(Stats(), Stats(), [], stats, description)
    try:
        for phase in range(phases):
            uploading = phase % 2 == 1
            if uploading:
                active.set()
            else:
                active.clear()
                for _ in uploaders:  # every uploader idle (signed in and waiting)
                    idle.acquire(timeout=60)
            part, confirmed = vote(seconds / phases)
            _add(result.beside if uploading else result.without, part)
            result.confirmed += confirmed
    finally:
        stop.set()
        active.set()
        try:
            answers, latencies, cpu_seconds = out.get(timeout=120)
            stats.answers.update(answers)
            stats.latencies += latencies
            result.uploaders_cpu_s = cpu_seconds
        finally:
            process.join(timeout=60)
    return result


def describe(stats: UploadStats) -> str:
    """"HTTP 303 ×12, HTTP 429 ×840 …" for the report."""
    return ", ".join(f"{answer} ×{count}" for answer, count in sorted(stats.answers.items())) or "none"


TARGET_UPLOAD_RATIO = 0.8


def report_rows(result: Interleaved) -> list[tuple[str, object]]:
    """Rows for section (a)'s table: the vote beside the uploads, and what the uploaders got."""
    from harness import cpu_note, percentile

    without, beside, ratio = result.without, result.beside, result.ratio or 0.0
    return [
        ("votes/s, phases without uploads", f"{without.rate:.1f}  ({without.ok} ballots in {without.elapsed:.1f} s; "
                                            f"ballot POST p99 {without.percentile_ms(99):.0f} ms)"),
        ("votes/s, phases with uploads", f"{beside.rate:.1f}  ({beside.ok} ballots in {beside.elapsed:.1f} s; "
                                         f"ballot POST p99 {beside.percentile_ms(99):.0f} ms{cpu_note(beside)})"),
        ("  ratio", f"{ratio:.2f}  (target ≥ {TARGET_UPLOAD_RATIO}: {'ok' if ratio >= TARGET_UPLOAD_RATIO else 'MISSED'})"),
        ("  the file uploaded", result.file),
        ("  the uploaders got", describe(result.uploads)),
        ("  the uploaders' own CPU", f"{result.uploaders_cpu_s:.1f} s in {beside.elapsed:.1f} s of upload phases "
                                     f"(a process of their own on the same {os.cpu_count()} cores)"),
        ("  upload answer p50 / p99", f"{percentile(result.uploads.latencies, 50) * 1000:.0f} ms / "
                                      f"{percentile(result.uploads.latencies, 99) * 1000:.0f} ms"),
    ]
