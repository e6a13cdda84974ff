"""Test data for applications: applicants, complete inputs, applications in any status."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from PIL import Image
from sqlalchemy.orm import Session

from deltager import road, uploads
from deltager.applications import services
from deltager.applications.models import Applicant, Application, ApplicationStatus, ChildCertificate
from deltager.audit.services import Actor
from deltager.db import utcnow
from deltager.rounds.models import Round, RoundStatus
from deltager.citizens import services as citizens
from tests.rounds.factories import make_round

STAFF = Actor.system("caseworker-test")
_counter = iter(range(1, 10**6))


def make_applicant(session: Session, email: str | None = None) -> Applicant:
    """A committed applicant."""
    applicant = citizens.get_or_create_applicant(session, email or f"borger{next(_counter)}@example.dk", utcnow())
    session.commit()
    return applicant


def sign_in_link(session: Session, email: str, now: dt.datetime, **limits: Any) -> tuple[Applicant, str]:
    """Ask for a sign-in link from one client IP, with the configured per-client limit unless given."""
    values: dict[str, Any] = {"client": "10.0.0.1", "max_per_client": 30, "client_window_seconds": 900} | limits
    return citizens.request_sign_in_link(session, email, now, **values)


def complete_input(**overrides: Any) -> services.ApplicationInput:
    """An application ready to submit: 12.500 kr. in two budget lines."""
    values: dict[str, Any] = {
        "title": "Skraldecafé i Gellerup",
        "summary": "Vi samler naboer om at reparere og bytte ting en lørdag om måneden.",
        "what": "En reparationscafé med kaffe og kage.",
        "for_whom": "Alle i området, især ældre der bor alene.",
        "where": "Beboerhuset, Gudrunsvej 10",
        "when": "Første lørdag i måneden fra marts",
        "contact_name": "Mette Hansen",
        "contact_phone": "20 30 40 50",
        "requested_ore": 12_500_00,
        "budget_lines": (("Værktøj", 7_500_00), ("Kaffe og kage", 5_000_00)),
        "involves_children": False,
        "consent": True,
    }
    values.update(overrides)
    return services.ApplicationInput(**values)


def open_round(session: Session, **overrides: Any) -> Round:
    """A round open for applications now."""
    return make_round(session, RoundStatus.OPEN, **overrides)


def make_application(
    session: Session, status: ApplicationStatus = ApplicationStatus.DRAFT, *,
    round_: Round | None = None, applicant: Applicant | None = None, **overrides: Any,
) -> Application:
    """A committed application moved through the services to ``status``."""
    round_ = round_ or open_round(session)
    applicant = applicant or make_applicant(session)
    actor = citizens.applicant_actor(applicant)
    now = utcnow()
    app = services.create_draft(session, actor, applicant, round_.id, complete_input(**overrides), now)
    S = ApplicationStatus
    if status is not S.DRAFT:
        services.submit(session, actor, app.id, now)
    if status is S.NEEDS_INFO:
        road.decide(session, STAFF, app.id, S.NEEDS_INFO, "Hvor skal det foregå?", now)
    elif status is S.ON_BALLOT:
        tick(session, app.id)
        road.decide(session, STAFF, app.id, S.ON_BALLOT, "", now)
    elif status is S.REJECTED:
        road.decide(session, STAFF, app.id, S.REJECTED, "Passer ikke til temaet.", now)
    elif status is S.WITHDRAWN:
        services.withdraw(session, actor, app.id, now)
    session.commit()
    return app


def tick(session: Session, application_id: int, **overrides: Any) -> None:
    """Tick the whole checklist yes."""
    values: dict[str, Any] = {
        "fits_theme": True, "budget_plausible": True, "eligible_applicant": True,
        "child_certificate": ChildCertificate.NOT_NEEDED, "child_certificate_received_on": None,
        "screening_notes": "",
    }
    values.update(overrides)
    services.update_screening(session, STAFF, application_id, services.ScreeningInput(**values), utcnow())


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), exif: bool = False) -> bytes:
    """A small picture in the given format (optionally with EXIF that must be stripped)."""
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 80, 40))
    kwargs: dict[str, Any] = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretCam"  # Make
        data[0x0132] = "2026:01:01 10:00:00"
        kwargs["exif"] = data.tobytes()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def a_photo(fmt: str = "JPEG") -> uploads.ProcessedImage:
    """A small picture as the services take it: checked and re-encoded, as the form does."""
    return uploads.process(uploads.PHOTO, image_bytes(fmt))


def later(days: int = 0, minutes: int = 0) -> dt.datetime:
    """A moment relative to now."""
    return utcnow() + dt.timedelta(days=days, minutes=minutes)
