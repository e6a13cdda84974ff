"""Demo applications: every status in the open round, a screened and decided ballot in the round
whose voting meeting is tonight.

Applications are made through the services with ``now`` inside each round's application window.
The second round has already passed its deadline when this runs, so its submitted applications
are written directly (as if sent in time) and then screened and decided through the services.
"""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from deltager import road
from deltager.accounts.models import User
from deltager import uploads
from deltager.applications import services
from deltager.applications.models import Applicant, ApplicantType, Application, ApplicationStatus, ChildCertificate
from deltager.audit.services import Actor, record
from deltager.rounds.models import Round
from deltager.citizens import services as citizens

S = ApplicationStatus
CASEWORKER = Actor(user_id=None, label="sagsbehandler@demo.deltager.dk (demo)")
CVR_FRIVILLIGCENTER = "10150817"  # passes the modulus-11 check
CVR_BEBOERFORENING = "25313763"

# (title, summary, amount kr., budget lines, children, association?, contact, colour)
OPEN_ROUND = [
    ("Skraldecafé i Gellerup", "En lørdag om måneden reparerer vi ting sammen og bytter det, vi ikke bruger. Kaffe og kage til alle.",
     12_000, [("Værktøj og reservedele", 7_000), ("Kaffe, te og kage", 5_000)], False, False, ("Mette Hansen", "mette.hansen@example.dk"), (70, 130, 90)),
    ("Fællesspisning for ensomme ældre", "Hver torsdag laver vi mad sammen i beboerhuset og spiser sammen. Vi henter dem, der ikke selv kan komme.",
     25_000, [("Råvarer i 40 uger", 18_000), ("Kørsel", 5_000), ("Service og duge", 2_000)], False, True, ("Birgit Nielsen", "birgit@example.dk"), (200, 120, 60)),
    ("Lektiecafé på biblioteket", "Frivillige hjælper børn i 4.–9. klasse med lektier to eftermiddage om ugen.",
     15_000, [("Frugt og saft", 6_000), ("Materialer", 4_000), ("Afslutningsfest", 5_000)], True, True, ("Ahmed Yusuf", "ahmed.yusuf@example.dk"), (60, 100, 180)),
    ("Strikkeklub i Beboerhuset", "Vi strikker sammen tirsdag eftermiddag og giver huer og tæpper til hjemløse.",
     6_500, [("Garn", 5_000), ("Strikkepinde", 1_500)], False, False, ("Grethe Jensen", "grethe.jensen@example.dk"), (160, 60, 140)),
    ("Gårdfest i Tousgårdsgade", "En sommerfest i gården, så naboerne lærer hinanden at kende. Musik, grill og lege for børn.",
     9_000, [("Leje af telt og bænke", 4_000), ("Mad og drikke", 4_000), ("Lege", 1_000)], True, False, ("Jonas Madsen", "jonas.madsen@example.dk"), (230, 180, 40)),
    ("Gåklub for nye i byen", "Ugentlige gåture med en lokal guide for nytilflyttere og flygtninge.",
     4_000, [("Kaffe og boller", 2_500), ("Kort og foldere", 1_500)], False, False, ("Fatima Ali", "fatima.ali@example.dk"), (90, 160, 160)),
    ("Sangaften på plejehjemmet", "Vi synger de gamle sange sammen med beboerne og deres pårørende hver måned.",
     7_500, [("Pianist", 6_000), ("Sanghæfter", 1_500)], False, False, ("Lars Poulsen", "lars.poulsen@example.dk"), (120, 90, 60)),
]

GODT_NABOSKAB = [
    ("Reparationscafé i Vestbyen", "Naboer hjælper naboer med at reparere cykler, tøj og små apparater.", 12_000),
    ("Fælleshaven på Rosenvænget", "Vi laver højbede, hvor naboerne dyrker grøntsager sammen.", 18_500),
    ("Bogbytte i opgangene", "Små bogskabe i ti opgange, hvor man kan låne og bytte bøger.", 3_500),
    ("Nabo-brunch hver måned", "En søndag om måneden spiser vi brunch sammen i fælleshuset.", 9_800),
    ("Legedag i parken", "En dag med lege, hoppeborg og kage for børnefamilier i kvarteret.", 14_000),
    ("Bedre belysning i gården", "Solcellelamper, så gården føles tryg at gå igennem om aftenen.", 20_000),
    ("Bydelens fotoklub", "Vi fotograferer kvarteret sammen og laver en udstilling på biblioteket.", 6_000),
    ("Fællesværksted i kælderen", "Værktøj, som alle kan låne, og et værksted, hvor man kan mødes.", 16_500),
    ("Kor for alle", "Et kor uden optagelsesprøve, der øver hver onsdag i skolens aula.", 8_000),
    ("Loppemarked på torvet", "To loppemarkeder om året, hvor overskuddet går til gadens børn.", 5_000),
]


def _photo(colour: tuple[int, int, int], text: str) -> bytes:
    image = Image.new("RGB", (800, 600), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 760, 560), outline=(255, 255, 255), width=8)
    draw.text((70, 280), text[:40], fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _input(title: str, summary: str, amount: int, lines: list[tuple[str, int]], children: bool,
           association: bool, contact: str, colour: tuple[int, int, int]) -> services.ApplicationInput:
    return services.ApplicationInput(
        title=title, summary=summary,
        what=summary, for_whom="Beboerne i området — især dem, der ellers sidder meget alene.",
        where="Beboerhuset, Gudrunsvej 10, Aarhus V", when="Fra foråret og et år frem",
        applicant_type=ApplicantType.ASSOCIATION if association else ApplicantType.PERSON,
        association_name="Frivilligcenter Nord" if association else "",
        cvr=CVR_FRIVILLIGCENTER if association else "",
        contact_name=contact, contact_phone="20 30 40 50",
        requested_ore=amount * 100,
        budget_lines=tuple((d, a * 100) for d, a in lines),
        involves_children=children, consent=True, photo=uploads.process(uploads.PHOTO, _photo(colour, title)),
    )


def _tick(session: Session, application: Application, now: dt.datetime, *, children_received: dt.date | None = None) -> None:
    services.update_screening(session, CASEWORKER, application.id, services.ScreeningInput(
        fits_theme=True, budget_plausible=True, eligible_applicant=True,
        child_certificate=ChildCertificate.RECEIVED if children_received else ChildCertificate.NOT_NEEDED,
        child_certificate_received_on=children_received, screening_notes="Gennemgået i demoen.",
    ), now)


def _open_round_demo(session: Session, round_: Round, helper: User | None) -> None:
    now = round_.applications_open_at + dt.timedelta(days=2)
    made: list[Application] = []
    for title, summary, amount, lines, children, association, (contact, email), colour in OPEN_ROUND:
        on_behalf = title.startswith("Sangaften") and helper is not None
        # Filled in by meeting staff for a citizen without e-mail: reached by phone instead.
        applicant = (citizens.create_applicant_without_email(session, now) if on_behalf
                     else citizens.get_or_create_applicant(session, email, now))
        applicant.name = contact
        data = _input(title, summary, amount, lines, children, association, contact, colour)
        actor = Actor.staff(helper) if on_behalf and helper else citizens.applicant_actor(applicant)
        made.append(services.create_draft(session, actor, applicant, round_.id, data, now,
                                          created_by_user_id=helper.id if on_behalf and helper else None))
    skraldecafe, spisning, lektiecafe, strik, gaardfest, gaaklub, sangaften = made
    later = now + dt.timedelta(days=3)
    for application in (spisning, lektiecafe, strik, gaardfest, gaaklub, sangaften):
        actor = Actor.staff(helper) if application is sangaften and helper else citizens.applicant_actor(application.applicant)
        services.submit(session, actor, application.id, later)
    decided = later + dt.timedelta(days=2)
    # Børneattest received for the homework café; on the ballot (early screening).
    _tick(session, lektiecafe, decided, children_received=decided.date())
    road.decide(session, CASEWORKER, lektiecafe.id, S.ON_BALLOT, "", decided)
    road.decide(session, CASEWORKER, gaardfest.id, S.NEEDS_INFO,
                    "Har I fået lov af boligforeningen til at bruge gården? Skriv gerne, hvem I har talt med.", decided)
    road.decide(session, CASEWORKER, gaaklub.id, S.REJECTED,
                    "Projektet får allerede støtte fra kommunens integrationspulje, så vi kan ikke give dobbelt støtte.", decided)
    services.withdraw(session, citizens.applicant_actor(strik.applicant), strik.id, decided)
    # skraldecafé stays a draft; spisning and sangaften (on behalf) stay submitted.


REJECTIONS = [
    "Projektet er en fast udgift til drift, og puljen støtter kun afgrænsede projekter.",
    "Et lignende projekt i samme område har allerede fået støtte i år.",
]


def _screening_round_demo(session: Session, round_: Round) -> None:
    sent = round_.applications_open_at + dt.timedelta(days=10)
    colours = [(70, 130, 90), (200, 120, 60), (60, 100, 180), (160, 60, 140), (230, 180, 40),
               (90, 160, 160), (120, 90, 60), (180, 70, 70), (80, 80, 160), (140, 140, 60)]
    for i, (title, summary, amount) in enumerate(GODT_NABOSKAB):
        applicant = citizens.get_or_create_applicant(session, f"nabo{i + 1}@example.dk", sent)
        association = i % 3 == 0
        data = _input(title, summary, amount, [("Materialer og indkøb", amount - 1_000), ("Forplejning", 1_000)],
                      False, association, f"Nabo {i + 1}", colours[i])
        application = Application(round=round_, applicant=applicant, created_at=sent, status=S.DRAFT)
        services._apply_input(application, data, sent)  # the window has closed: written as sent in time
        if association:
            application.association_name, application.cvr = "Beboerforeningen Vestbyen", CVR_BEBOERFORENING
        application.status, application.submitted_at = S.SUBMITTED, sent + dt.timedelta(hours=i)
        session.add(application)
        session.flush()
        record(session, citizens.applicant_actor(applicant), "application.submit", "application",
               application.id, after=services.snapshot(application), at=application.submitted_at)
        decided = round_.applications_close_at + dt.timedelta(days=2)
        if i < 8:  # the first eight go on the ballot; the last two are turned down with a reason
            _tick(session, application, decided)
            road.decide(session, CASEWORKER, application.id, S.ON_BALLOT, "", decided)
        else:
            road.decide(session, CASEWORKER, application.id, S.REJECTED, REJECTIONS[i - 8], decided)


def load_applications_demo(session: Session, today: dt.date) -> None:
    """Add demo applicants and applications to the demo rounds (looked up by title)."""
    del today  # the rounds' own windows decide the dates
    helper = session.scalar(select(User).where(User.email == "moedevaert@demo.deltager.dk"))
    open_round = session.scalar(select(Round).where(Round.title == "Del dit fællesskab"))
    if open_round is not None:
        _open_round_demo(session, open_round, helper)
    screening = session.scalar(select(Round).where(Round.title == "Godt naboskab"))
    if screening is not None:
        _screening_round_demo(session, screening)


def ballot_demo_projects(
    session: Session, round_: Round, projects: list[tuple[str, str, int]], at: dt.datetime,
) -> None:
    """Put demo applications on the ballot if the round has fewer than 8 there (the voting demo's
    rounds: ``projects`` are (title, summary, kroner), written as if sent in and decided at ``at``)."""
    have = session.scalars(
        select(Application.id).where(Application.round_id == round_.id, Application.status == ApplicationStatus.ON_BALLOT)
    ).all()
    if len(have) >= 8:
        return
    applicant = session.scalar(select(Applicant).where(Applicant.email == "demo-projekter@example.dk"))
    if applicant is None:
        applicant = Applicant(email="demo-projekter@example.dk", name="Demo-ansøgere")
        session.add(applicant)
        session.flush()
    for title, summary, kroner in projects:
        session.add(Application(
            round_id=round_.id, applicant_id=applicant.id, status=ApplicationStatus.ON_BALLOT, title=title,
            summary=summary, what=summary, requested_ore=kroner * 100, applicant_type=ApplicantType.ASSOCIATION,
            association_name="Beboerforeningen", contact_name="Demo", consent_at=at, submitted_at=at, decided_at=at,
            created_at=at, updated_at=at,
        ))
    session.flush()
