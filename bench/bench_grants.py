"""Section (e) of ``make bench``: the money road (issue 16, acceptance 6).

- ``queue_p99_ms`` and ``ledger_p99_ms``: the caseworkers' approval queue (``/staff/claims``,
  paging through it with and without filters) and a grant's page with its ledger
  (``/staff/grants/<id>``), at 10,000 claims across 50 grants, on SQLite: each request through
  the whole Flask app in-process (session, permission, queries, template), 200 of each, p99.
  Target: < 100 ms. (In-process, so this is the server's time; the network adds a round trip.)
- ``batch_csv_2000_s``: a payout batch of 2,000 approved claims made and exported as the finance
  system's CSV (``batches.create_batch`` + ``batches.export_batch``, which locks it). Target: < 1 s.
- ``receipt_photo_s``: checking a 12-megapixel phone photo of a receipt through the upload
  pipeline (decoded in draft mode at half size, turned upright, re-encoded without EXIF), the
  median of five runs on one core. Target: < 1 s. (The vote's throughput while receipts are
  uploaded is section (a)'s ``vote_ratio_under_upload``: the same pipeline and the same slots.)
"""

from __future__ import annotations

import datetime as dt
import io
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import table
from PIL import Image

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from deltager import uploads

TARGET_RECEIPT_S = 1.0
TARGET_PAGE_MS = 100
TARGET_CSV_S = 1.0
GRANTS, CLAIMS, BATCH = 50, 10_000, 2_000


def phone_receipt_photo() -> bytes:
    """4,000 × 3,000 px with sensor-like noise (so the JPEG weighs what a phone's does, ~7 MB)."""
    noise = Image.effect_noise((4000, 3000), 40)
    gradient = Image.linear_gradient("L").resize((4000, 3000))
    out = io.BytesIO()
    Image.merge("RGB", [noise, gradient, noise]).save(out, format="JPEG", quality=92)
    return out.getvalue()


def receipt_photo() -> dict[str, Any]:
    data = phone_receipt_photo()
    times = []
    for _ in range(5):
        started = time.perf_counter()
        checked = uploads.check_file(uploads.RECEIPT, "IMG_2041.JPG", data)
        times.append(time.perf_counter() - started)
    stored = Image.open(io.BytesIO(checked.content))
    return {"receipt_photo_s": statistics.median(times), "bytes_in": len(data), "bytes_out": len(checked.content),
            "stored_size": stored.size}


def _fill(session: Session, now: dt.datetime) -> tuple[int, list[int]]:
    """A round with GRANTS grants of 25,000 kr. (conditions accepted) and CLAIMS claims across them,
    in every open and decided state; BATCH of them approved and not yet paid."""
    from deltager.applications.models import Applicant, Application, ApplicationStatus
    from deltager.audit.services import Actor
    from deltager.grants import services
    from deltager.grants.models import ClaimStatus, ConditionsChannel, ExpenseClaim, Grant, PayeeType
    from deltager.rounds.models import Round, RoundStatus

    actor = Actor.system("bench")
    round_ = Round(title="Bench", theme="Fællesskab", pot_ore=GRANTS * 25_000_00, cap_ore=25_000_00,
                   funding_source="§ 18", applications_open_at=now - dt.timedelta(days=120),
                   applications_close_at=now - dt.timedelta(days=90), voting_on=(now - dt.timedelta(days=60)).date(),
                   project_deadline=(now + dt.timedelta(days=300)).date(),
                   report_deadline=(now + dt.timedelta(days=330)).date(), status=RoundStatus.RUNNING)
    applicant = Applicant(email="bench-grants@example.org", name="Bench")
    session.add_all([round_, applicant])
    session.flush()
    apps = [Application(round_id=round_.id, applicant_id=applicant.id, status=ApplicationStatus.ON_BALLOT,
                        title=f"Projekt {n}", requested_ore=25_000_00) for n in range(GRANTS)]
    session.add_all(apps)
    session.flush()
    winners = [services.Winner(application_id=a.id, title=a.title, amount_ore=a.requested_ore, rank=n + 1,
                               payee_type=PayeeType.PRIVATE, payee_name=f"Modtager {n}", payee_address="Gade 1")
               for n, a in enumerate(apps)]
    grants = services.make_grants(session, actor, round_.id, round_.pot_ore, winners, now - dt.timedelta(days=59))
    for grant in grants:
        services.accept_conditions(session, actor, grant.id, ConditionsChannel.PAPER, now - dt.timedelta(days=59))
    open_states = [ClaimStatus.SUBMITTED, ClaimStatus.NEEDS_INFO, ClaimStatus.REJECTED, ClaimStatus.SUBMITTED]
    approved_per_grant = BATCH // GRANTS
    rows, approved = [], {g.id: 0 for g in grants}
    for n in range(CLAIMS):
        grant = grants[n % GRANTS]
        amount = 100 + n % 5_000
        status = ClaimStatus.APPROVED if n // GRANTS < approved_per_grant else open_states[n % 4]
        at = now - dt.timedelta(days=50) + dt.timedelta(seconds=n * 30)
        rows.append({
            "grant_id": grant.id, "budget_line_id": grant.budget_lines[0].id, "kind": "reimburse",
            "amount_ore": amount, "approved_ore": amount if status is ClaimStatus.APPROVED else None,
            "spent_on": (at - dt.timedelta(days=1)).date(), "description": f"Indkøb {n}",
            "supplier_name": f"Butik {n % 97}", "status": status.value,
            "reason": "Ikke i budgettet" if status is ClaimStatus.REJECTED else "",
            "submitted_at": at, "waiting_since": at,
            "decided_at": at if status is ClaimStatus.APPROVED else None,
            "decided_by": "bench" if status is ClaimStatus.APPROVED else "",
        })
        if status is ClaimStatus.APPROVED:
            approved[grant.id] += amount
    session.execute(insert(ExpenseClaim), rows)
    for grant_id, total in approved.items():
        session.execute(update(Grant).where(Grant.id == grant_id).values(approved_ore=total))
    session.commit()
    return round_.id, [g.id for g in grants]


def _p99_ms(client: Any, paths: list[str]) -> float:
    for path in paths[:5]:  # warm: statement cache, templates
        client.get(path)
    times = []
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status_code}")
    return statistics.quantiles(times, n=100)[98]


def money_road() -> dict[str, Any]:
    """Queue and ledger pages at 10,000 claims, and the 2,000-claim batch's CSV, on SQLite."""
    from deltager import create_app, migrate
    from deltager.accounts.models import Role, User
    from deltager.audit.services import Actor
    from deltager.db import get_db, make_engine
    from deltager.grants import batches
    from deltager.serving import warm_up

    with tempfile.TemporaryDirectory(prefix="deltager-bench-grants-") as tmp:
        instance = Path(tmp)
        url = f"sqlite:///{instance / 'deltager.sqlite'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        with Session(engine, expire_on_commit=False) as session:
            round_id, grant_ids = _fill(session, now)
            user = User(email="sag@bench.example", name="Sagsbehandler", role=Role.CASEWORKER, password_hash="!")
            session.add(user)
            session.commit()
            user_id = user.get_id()
        app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False}, instance_path=instance)
        warm_up(app)  # as gunicorn's master does before it forks the workers (gunicorn.conf.py)
        client = app.test_client()
        with client.session_transaction() as flask_session:
            flask_session["_user_id"] = user_id
            flask_session["_fresh"] = True
        rng = random.Random(7)
        queue = [rng.choice([f"/staff/claims?page={rng.randint(1, 150)}", f"/staff/claims?round={round_id}",
                             f"/staff/claims?waiting=us&page={rng.randint(1, 100)}", "/staff/claims?waiting=grantee"])
                 for _ in range(200)]
        ledgers = [f"/staff/grants/{rng.choice(grant_ids)}" for _ in range(200)]
        queue_ms, ledger_ms = _p99_ms(client, queue), _p99_ms(client, ledgers)
        with app.app_context():
            session = get_db(app).session()
            started = time.perf_counter()
            batch = batches.create_batch(session, Actor.system("bench"), round_id, now)
            text = batches.export_batch(session, Actor.system("bench"), batch.id, now)
            session.commit()
            csv_s = time.perf_counter() - started
            claims_in_batch = len(batches.batch_claims(session, batch.id))
            session.close()
        engine.dispose()
    return {"queue_p99_ms": queue_ms, "ledger_p99_ms": ledger_ms, "batch_csv_2000_s": csv_s,
            "batch_claims": claims_in_batch, "csv_rows": text.count("\n") - 1}


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def grants_section() -> tuple[str, dict[str, Any]]:
    """The section's table and its BENCH figures."""
    print(f"-- money road: {CLAIMS:,} claims across {GRANTS} grants …", flush=True)
    road = money_road()
    print("-- money road: a phone's receipt photo …", flush=True)
    photo = receipt_photo()
    seconds = photo["receipt_photo_s"]
    rows: list[tuple[str, object]] = [
        ("approval queue p99", f"{road['queue_p99_ms']:.1f} ms  (200 pages; target < {TARGET_PAGE_MS} ms: "
                               f"{_verdict(road['queue_p99_ms'] < TARGET_PAGE_MS)})"),
        ("grant page with ledger p99", f"{road['ledger_p99_ms']:.1f} ms  (200 pages; target < {TARGET_PAGE_MS} ms: "
                                       f"{_verdict(road['ledger_p99_ms'] < TARGET_PAGE_MS)})"),
        (f"batch of {road['batch_claims']:,} claims → CSV", f"{road['batch_csv_2000_s']:.3f} s  ({road['csv_rows']} payees; "
                                                          f"target < {TARGET_CSV_S:.0f} s: {_verdict(road['batch_csv_2000_s'] < TARGET_CSV_S)})"),
        ("receipt photo, 12 MP JPEG", f"{seconds:.3f} s  (median of 5; target < {TARGET_RECEIPT_S:.0f} s: "
                                      f"{_verdict(seconds < TARGET_RECEIPT_S)})"),
        ("  in / stored", f"{photo['bytes_in'] / 1e6:.1f} MB → {photo['bytes_out'] / 1e6:.2f} MB, "
                          f"{photo['stored_size'][0]} × {photo['stored_size'][1]} px"),
    ]
    figures = {key: road[key] for key in ("queue_p99_ms", "ledger_p99_ms", "batch_csv_2000_s")}
    return table("(e) the money road", rows), {**figures, "receipt_photo_s": seconds}
