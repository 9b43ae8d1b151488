"""Alembic environment.

The database URL comes from, in order: a connection handed over by
``bridge.storage.migrate`` (the normal path), ``alembic -x url=...``,
``$INVOICE_BRIDGE_DATABASE_URL``, the config file in ``$INVOICE_BRIDGE_CONFIG``,
and last ``sqlalchemy.url`` in alembic.ini.
"""

from __future__ import annotations

import os

from alembic import context

from bridge.storage.database import ensure_sqlite_folder, make_engine
from bridge.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    x_args = context.get_x_argument(as_dictionary=True)
    if x_args.get("url"):
        return x_args["url"]
    if os.environ.get("INVOICE_BRIDGE_DATABASE_URL"):
        return os.environ["INVOICE_BRIDGE_DATABASE_URL"]
    if os.environ.get("INVOICE_BRIDGE_CONFIG"):
        from bridge.config.load import load_settings

        return load_settings().database.url
    return config.get_main_option("sqlalchemy.url") or "sqlite:///var/invoice-bridge.db"


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = _url()
    ensure_sqlite_folder(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
