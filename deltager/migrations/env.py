"""Alembic environment: the database URL and metadata come from the Deltager app."""

from __future__ import annotations

from alembic import context

from deltager.models import metadata

config = context.config


def run_migrations_online() -> None:
    """Run with the connection handed over in ``config.attributes`` (see ``deltager.migrate``)."""
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE support on SQLite
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run `flask --app wsgi init-db`.")
run_migrations_online()
