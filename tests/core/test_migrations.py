"""Migrations: upgrading from nothing gives exactly the models' schema, and runs twice safely."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Enum, MetaData, Table, inspect, text

from deltager import migrate
from deltager.db import make_engine
from deltager.models import metadata


def test_single_head() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(make_engine("sqlite://")))
    assert len(script.get_heads()) == 1, "migrations have branched: write a merge revision"


def test_migrated_schema_matches_models(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_upgrade_is_idempotent_and_creates_every_table(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    migrate.upgrade(engine)
    migrate.upgrade(engine)  # a second `make run` must not fail
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(metadata.tables) <= tables
    assert "alembic_version" in tables


def _insert(conn: Connection, name: str, **values: object) -> int:
    """A row in a table as an older revision made it: NOT NULL columns not given get a plain value
    of their type (an enum's first member)."""
    table = Table(name, MetaData(), autoload_with=conn)
    row: dict[str, object] = {}
    for column in table.columns:
        if column.primary_key or column.nullable or column.name in values:
            continue
        kind = metadata.tables[name].c[column.name].type
        if isinstance(kind, Enum):
            row[column.name] = kind.enums[0]
        else:
            plain = {str: "x", int: 1, bool: False, dt.date: dt.date(2026, 1, 1),
                     dt.datetime: dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}
            row[column.name] = plain[getattr(kind, "impl", kind).python_type]  # UTCDateTime: its impl
    return int(conn.execute(table.insert().values(**row, **values)).inserted_primary_key[0])


def test_0014_fills_each_rounds_granted_net_from_its_grants(tmp_path: Path) -> None:
    """Σ (granted − released − repaid) per round; a round without grants gets 0."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    migrate.upgrade(engine, "0013_supplier_address")
    when = {"applications_open_at": dt.datetime(2026, 1, 1), "applications_close_at": dt.datetime(2026, 2, 1)}
    with engine.connect() as conn, conn.begin():
        rounds = [_insert(conn, "round", pot_ore=50_000_00, cap_ore=25_000_00, **when) for _ in range(2)]
        applicant = _insert(conn, "applicant")
        for n, (amount, released, paid, repaid) in enumerate([(20_000_00, 5_000_00, 3_000_00, 1_000_00),
                                                               (10_000_00, 0, 0, 0)]):
            application = _insert(conn, "application", round_id=rounds[0], applicant_id=applicant)
            _insert(conn, "grant", round_id=rounds[0], application_id=application, amount_ore=amount,
                    released_ore=released, approved_ore=paid, paid_ore=paid, repaid_ore=repaid,
                    starts_on=dt.date(2026, 1, 1), deadline=dt.date(2027, 1, 1), rank=n)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        filled = dict(conn.execute(text("SELECT id, granted_net_ore FROM round")).all())
    engine.dispose()
    assert filled == {rounds[0]: 30_000_00 - 5_000_00 - 1_000_00, rounds[1]: 0}
