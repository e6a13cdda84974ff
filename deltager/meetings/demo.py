"""Demo meetings for the open round "Del dit fællesskab": an information meeting, help meetings
in real places with sign-ups (one needs an interpreter), and a past help meeting with attendance."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from deltager.audit.services import Actor
from deltager.meetings import services
from deltager.meetings.models import MeetingKind
from deltager.rounds.models import Round
from deltager.timeutil import local_to_utc

DEMO_ACTOR = Actor.system("demo")
ROUND_TITLE = "Del dit fællesskab"

HELP_TEXT = (
    "Kom forbi og få hjælp til at skrive din ansøgning. Vi sidder klar med kaffe og computere, "
    "og vi hjælper også, hvis dansk ikke er dit første sprog. Tag gerne din idé og et groft budget med."
)
INFO_TEXT = (
    "Hør om deltagerbudgettet: hvad du kan søge penge til, hvordan du søger, hvor du kan få hjælp, "
    "og hvordan du gør regnskab med kvitteringer, hvis dit projekt får penge."
)

# (kind, title, place, address, days from today, start hour, hours, capacity, description)
MEETINGS = [
    (MeetingKind.INFO, "Informationsmøde om Del dit fællesskab", "Hovedbiblioteket Dokk1, Salen",
     "Hack Kampmanns Plads 2, 8000 Aarhus C", 5, 17, 2, 80, INFO_TEXT),
    (MeetingKind.HELP, "Få hjælp til din ansøgning – Gellerup", "Beboerhuset Gellerup",
     "Gudrunsvej 10, 8220 Brabrand", 9, 16, 2, 12, HELP_TEXT),
    (MeetingKind.HELP, "Få hjælp til din ansøgning – Dokk1", "Hovedbiblioteket Dokk1, mødelokale 3",
     "Hack Kampmanns Plads 2, 8000 Aarhus C", 16, 15, 2, 10, HELP_TEXT),
    (MeetingKind.HELP, "Få hjælp til din ansøgning – Frivilligcenter", "Frivilligcenter Aarhus",
     "Mejlgade 35B, 8000 Aarhus C", 23, 10, 3, None, HELP_TEXT),
]
PAST_HELP = (MeetingKind.HELP, "Få hjælp til din ansøgning – Bydelshuset Vest", "Bydelshuset Vest",
             "Lokesvej 1, 8220 Brabrand", -4, 16, 2, 15, HELP_TEXT)

SIGN_UPS = {
    0: [("Mette Jensen", "mette.jensen@example.dk", "", ""),
        ("Foreningen Naboskab v/ Kim Larsen", "kim@naboskab.example.dk", "22 33 44 55", "")],
    1: [("Amina Hassan", "amina.hassan@example.dk", "40 11 22 33", "Har brug for tolk (somali)"),
        ("Ole Sørensen", "ole.s@example.dk", "", ""),
        ("Fatima Ali", "fatima.ali@example.dk", "", "Kommer med barnevogn")],
    2: [("Jonas Holm", "jonas.holm@example.dk", "", "")],
    3: [],
}
PAST_SIGN_UPS = [("Hanne Kristensen", "hanne.k@example.dk", "", ""),
                 ("Yusuf Demir", "yusuf.demir@example.dk", "", "Har brug for tolk (tyrkisk)"),
                 ("Lise Madsen", "lise.madsen@example.dk", "", "")]


def _input(spec: tuple, today: dt.date) -> services.MeetingInput:
    kind, title, place, address, days, hour, hours, capacity, description = spec
    start = local_to_utc(dt.datetime.combine(today + dt.timedelta(days=days), dt.time(hour)))
    return services.MeetingInput(kind=kind, title=title, place=place, address=address, description=description,
                                 starts_at=start, ends_at=start + dt.timedelta(hours=hours), capacity=capacity)


def _sign_up(session: Session, meeting_id: int, people: list[tuple[str, str, str, str]], now: dt.datetime) -> list[int]:
    ids = []
    for name, email, phone, note in people:
        data = services.RegistrationInput(name=name, email=email, phone=phone, note=note)
        registration, _token = services.register(session, DEMO_ACTOR, meeting_id, data, now)
        ids.append(registration.id)
    return ids


def load_meetings_demo(session: Session, today: dt.date) -> None:
    """Add the demo meetings to the round "Del dit fællesskab" (nothing if it does not exist)."""
    round_ = session.scalar(select(Round).where(Round.title == ROUND_TITLE))
    if round_ is None:
        return
    signed_up_at = local_to_utc(dt.datetime.combine(today - dt.timedelta(days=10), dt.time(12)))
    for index, spec in enumerate(MEETINGS):
        meeting = services.create_meeting(session, DEMO_ACTOR, round_.id, _input(spec, today))
        _sign_up(session, meeting.id, SIGN_UPS[index], signed_up_at)

    past = services.create_meeting(session, DEMO_ACTOR, round_.id, _input(PAST_HELP, today))
    ids = _sign_up(session, past.id, PAST_SIGN_UPS, signed_up_at)
    services.record_attendance(session, DEMO_ACTOR, past.id, ids[:2], 3, past.ends_at)
