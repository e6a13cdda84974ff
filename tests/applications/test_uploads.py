"""The upload pipeline (deltager/uploads.py) through the application form: what an upload may cost.

Issue 14, point 2: a 116 KB PNG of 6,320 × 6,320 px, just under the old pixel cap, cost a second of
CPU and 700 MB per decode, and four upload loops of one applicant stopped a vote. Here: such a file
is refused from its header (nothing decoded, the form keeps what was typed), JPEG decodes at the
target size, uploads are counted per client and per person in the database, decodes wait for a
free slot on the host or are refused at once, and refusals for load cost no parsing of the body.
"""

from __future__ import annotations

import fcntl
import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Request
from flask import request as current_request
from flask.testing import FlaskClient
from PIL import Image, ImageFile
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import stream_encode_multipart

from deltager import uploads
from deltager.applications.models import Application
from deltager.ratelimit import RateCount
from tests.applications.conftest import sign_in_as
from tests.applications.factories import make_applicant, make_application
from tests.applications.test_views import form_data


@pytest.fixture(scope="module")
def png_bomb() -> bytes:
    """The issue's file: 6,320 × 6,320 px (39.9 MP, under the old 40 MP cap) in a small PNG."""
    out = io.BytesIO()
    Image.new("RGB", (6320, 6320), (255, 255, 255)).save(out, format="PNG")
    assert len(out.getvalue()) < 200_000
    return out.getvalue()


def _jpeg(size: tuple[int, int], *, noise: bool = False) -> bytes:
    image = Image.effect_noise(size, 60).convert("RGB") if noise else Image.new("RGB", size, (90, 140, 200))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[int, int]]]:
    """Every image decoded in this test: its format and the size it was decoded at."""
    seen: list[tuple[str, tuple[int, int]]] = []
    real = ImageFile.ImageFile.load

    def load(self: ImageFile.ImageFile) -> Any:
        if self.tile:  # not yet decoded
            seen.append((str(self.format), self.size))
        return real(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return seen


def _post_photo(client: FlaskClient, application: Application, data: bytes, **fields: Any) -> Any:
    """POST the form with a photo, its body in memory as a socket would give it (the test client
    would spool a large body to a temporary file that stays open when the app never reads it)."""
    files = MultiDict(form_data(action="save", **fields))
    files.add("photo", FileStorage(io.BytesIO(data), "billede"))
    stream, _length, boundary = stream_encode_multipart(files)
    with stream:
        body = stream.read()
    return client.post(f"/apply/{application.id}/edit", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _signed_in(client: FlaskClient, session: Session, email: str = "grethe@example.dk") -> Application:
    application = make_application(session, applicant=make_applicant(session, email))
    sign_in_as(client, application.applicant)
    return application


def test_the_png_bomb_is_refused_from_its_header_and_the_form_keeps_what_was_typed(
        client: FlaskClient, session: Session, png_bomb: bytes, decoded: list[Any]) -> None:
    application = _signed_in(client, session)

    response = _post_photo(client, application, png_bomb, title="Min nye titel")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert decoded == []  # nothing decoded: the header said 39.9 MP of PNG
    assert "for mange pixels" in page and 'value="Min nye titel"' in page
    session.refresh(application)
    assert application.photo is None


def test_png_has_a_smaller_pixel_cap_than_jpeg(decoded: list[Any]) -> None:
    out = io.BytesIO()
    Image.new("L", (3200, 3200)).save(out, format="PNG")  # 10.2 MP
    with pytest.raises(uploads.ValidationFailed, match="pixels"):
        uploads.read_header(uploads.PHOTO, out.getvalue())
    assert uploads.read_header(uploads.PHOTO, _jpeg((3200, 3200))).format == "JPEG"
    assert decoded == []


def test_a_phone_photo_is_stored_and_decoded_in_draft_mode_at_the_target_size(
        client: FlaskClient, session: Session, decoded: list[Any]) -> None:
    application = _signed_in(client, session)
    photo = _jpeg((4032, 3024))  # a 12 MP phone photo

    response = _post_photo(client, application, photo)

    assert response.status_code == 303
    session.refresh(application)
    assert application.photo is not None and (application.photo.width, application.photo.height) == (1600, 1200)
    # Decoded at half size (the smallest scale still at least 1600 × 1200), never at 4032 × 3024.
    assert decoded[0] == ("JPEG", (2016, 1512))


def test_uploads_are_counted_per_person_in_the_database(app: Flask, client: FlaskClient, session: Session,
                                                       decoded: list[Any]) -> None:
    app.config.update(UPLOAD_LIMIT_PER_PERSON=2, UPLOAD_LIMIT_PER_CLIENT=100)
    application = _signed_in(client, session)
    photo = _jpeg((800, 600))

    statuses = [_post_photo(client, application, photo).status_code for _ in range(3)]

    assert statuses == [303, 303, 429]
    assert len(decoded) == 2
    counts = session.scalars(select(RateCount).where(RateCount.scope == uploads.SCOPE_PERSON)).all()
    assert [(c.key, c.count) for c in counts] == [(f"applicant:{application.applicant.id}", 2)]


def test_uploads_are_counted_per_client_address(app: Flask, session: Session, decoded: list[Any]) -> None:
    app.config.update(UPLOAD_LIMIT_PER_PERSON=100, UPLOAD_LIMIT_PER_CLIENT=2)
    photo = _jpeg((800, 600))
    statuses = []
    for email in ("a@example.dk", "b@example.dk", "c@example.dk"):  # new people, one address
        client = app.test_client()
        statuses.append(_post_photo(client, _signed_in(client, session, email), photo).status_code)

    assert statuses == [303, 303, 429]
    assert len(decoded) == 2


@pytest.fixture
def every_slot_taken(app: Flask) -> Iterator[Any]:
    """Another worker of this host is decoding (it holds the host's one decode slot); the fixture's
    value ends that decode."""
    directory = app.config.get("UPLOAD_SLOT_DIR") or os.path.join(app.instance_path, "upload-slots")
    os.makedirs(directory, exist_ok=True)
    fd = os.open(os.path.join(directory, "decode-0.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        yield lambda: fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def test_when_the_host_is_decoding_an_upload_is_refused_at_once(
        client: FlaskClient, session: Session, every_slot_taken: None, decoded: list[Any]) -> None:
    application = _signed_in(client, session)

    response = _post_photo(client, application, _jpeg((800, 600)))

    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "Prøv igen om et øjeblik" in response.get_data(as_text=True)
    assert decoded == []
    assert session.scalars(select(RateCount)).all() == []  # "busy" costs no allowance


def test_a_decode_slot_rests_so_that_decoding_takes_at_most_its_share_of_the_time(tmp_path: Path) -> None:
    now = [1000.0]
    with uploads._host_slot(tmp_path, 1, duty=0.25, clock=lambda: now[0]):
        now[0] += 0.4  # a decode of 0.4 s
    # ... then the slot rests 0.4 × 0.75 / 0.25 = 1.2 s, for every worker process of the host
    now[0] += 1.1
    with pytest.raises(uploads.UploadBusy), uploads._host_slot(tmp_path, 1, duty=0.25, clock=lambda: now[0]):
        pass
    now[0] += 0.2
    with uploads._host_slot(tmp_path, 1, duty=0.25, clock=lambda: now[0]):
        pass
    with uploads._host_slot(tmp_path, 1, duty=1.0, clock=lambda: now[0]):  # 1: no rest
        pass


def test_a_loop_of_uploads_is_refused_while_the_slot_rests(app: Flask, client: FlaskClient, session: Session,
                                                           decoded: list[Any]) -> None:
    app.config.update(UPLOAD_DECODE_DUTY=0.01)  # a decode of a few ms, then rest for a second or more
    application = _signed_in(client, session)
    photo = _jpeg((1200, 1200), noise=True)

    statuses = [_post_photo(client, application, photo).status_code for _ in range(3)]

    assert statuses == [303, 503, 503]
    assert len(decoded) == 1


def test_a_refusal_for_load_does_not_parse_the_body(app: Flask, client: FlaskClient, session: Session,
                                                    every_slot_taken: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    application = _signed_in(client, session)
    parsed: list[bool] = []
    real = Request._load_form_data

    def load_form_data(self: Request) -> None:
        parsed.append(True)
        real(self)

    monkeypatch.setattr(Request, "_load_form_data", load_form_data)
    photo = _jpeg((1200, 1200), noise=True)
    assert len(photo) > uploads.PHOTO.gate_bytes  # a body that carries a file

    busy = _post_photo(client, application, photo)
    every_slot_taken()  # the other decode ends: now the limit is what refuses
    app.config.update(UPLOAD_LIMIT_PER_PERSON=0)
    limited = _post_photo(client, application, photo)

    assert (busy.status_code, limited.status_code) == (503, 429)
    assert parsed == []  # neither the form nor the CSRF check read the 5 MB that could have come
    assert b"<form" not in limited.data and len(limited.data) < 2_000  # a short page, not the form


@pytest.mark.parametrize("size", [(200, 150), (1200, 1200)])  # a small body, and one past the gate
def test_upload_views_still_check_csrf(app: Flask, client: FlaskClient, session: Session, size: tuple[int, int],
                                       decoded: list[Any]) -> None:
    app.config.update(WTF_CSRF_ENABLED=True)  # the views check it themselves, after the cheap refusals
    application = _signed_in(client, session)

    response = _post_photo(client, application, _jpeg(size, noise=True), title="Forfalsket")

    assert response.status_code == 400 and decoded == []
    session.refresh(application)
    assert application.title != "Forfalsket" and application.photo is None


def test_pictures_are_decoded_at_a_lower_cpu_priority_than_requests(
        client: FlaskClient, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    application = _signed_in(client, session)
    priorities: list[int] = []
    real = uploads.process

    def process(policy: uploads.UploadPolicy, data: bytes) -> uploads.ProcessedImage:
        priorities.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return real(policy, data)

    monkeypatch.setattr(uploads, "process", process)

    assert _post_photo(client, application, _jpeg((800, 600))).status_code == 303
    assert priorities == [10] and os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == 0


def test_a_looping_upload_is_refused_before_flask_while_the_host_is_busy(
        app: Flask, client: FlaskClient, session: Session, every_slot_taken: Any, decoded: list[Any]) -> None:
    application = _signed_in(client, session)
    reached_flask: list[str] = []
    app.before_request(lambda: reached_flask.append(current_request.path))  # type: ignore[func-returns-value]
    photo = _jpeg((1200, 1200), noise=True)

    busy = _post_photo(client, application, photo)
    small = client.post(f"/apply/{application.id}/edit", data=form_data(action="save"))  # no file: not gated

    assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
    assert busy.mimetype == "text/html" and "Prøv igen om et øjeblik" in busy.get_data(as_text=True)
    assert reached_flask == [f"/apply/{application.id}/edit"]  # only the request without a file
    assert small.status_code in (200, 303) and decoded == []


def test_the_gate_lets_uploads_through_when_a_slot_is_free_and_knows_every_upload_view(app: Flask) -> None:
    gate = app.wsgi_app
    assert isinstance(gate, uploads.BusyGate)
    assert set(gate.gates) == {"applications.new", "applications.edit", "applications.on_behalf_new",
                               "applications.on_behalf_edit", "grants.send_receipt", "grants.answer",
                               "grants.paper_claim"}
    assert uploads.host_slot_free(gate.directory, gate.slots)
