"""Shared fixtures.

Databases are real: a SQLite file per test, and -- when ``INVOICE_BRIDGE_TEST_PG_URL`` points
at a PostgreSQL server -- a fresh PostgreSQL database per test. Without that variable the
PostgreSQL tests skip with the reason; with ``INVOICE_BRIDGE_REQUIRE_PG=1`` (set by .ci/run)
they fail instead, so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import ProgrammingError

from bridge.config.load import parse_settings
from bridge.config.model import Settings
from bridge.config.sections import normalise_database_url
from bridge.storage.database import Database
from bridge.storage.migrate import upgrade
from bridge.upstreams.econt.adapter import EcontUpstream
from bridge.upstreams.registry import UpstreamRegistry
from bridge.web import create_app
from sandbox.config import bridge_config, merge
from sandbox.econt import econt_upstream
from sandbox.memory import InMemoryUpstream

WEBHOOK_SECRET = "wc_test_secret"
ADMIN_TOKEN = "admin-token-for-tests-0123456789"
CLIENT_ID = "0f3c2a9be1d84c6fa07b5e3d9c1a2b44"
TOKEN = "7d2e91c0a4b35f6e8c1d0b9a7f6e5d43"
SHOP = "shop"

PG_URL_ENV = "INVOICE_BRIDGE_TEST_PG_URL"
REQUIRE_PG_ENV = "INVOICE_BRIDGE_REQUIRE_PG"


def base_config(tmp_path: Path, *, db_url: str | None = None,
                upstream_url: str = "http://127.0.0.1:9") -> dict[str, Any]:
    config = bridge_config(
        econt_upstream(upstream_url, client_id=CLIENT_ID, token=TOKEN, language="ro",
                       rate_limit=0),
        webhook_secret=WEBHOOK_SECRET, shop_id=SHOP,
        db_url=db_url or f"sqlite:///{tmp_path / 'bridge.db'}",
        spool_dir=str(tmp_path / "spool"), log_format="text", log_level="INFO")
    return merge(config, {
        "admin": {"tokens": [ADMIN_TOKEN]},
        "dispatch": {"poll_interval": "50ms", "lease": "30s", "connect_timeout": 2,
                     "read_timeout": 5, "shutdown_grace": "5s", "concurrency": 4},
    })


@pytest.fixture
def make_settings(tmp_path: Path, db_url: str) -> Any:
    def _make(changes: dict[str, Any] | None = None, *, upstream_url: str = "http://127.0.0.1:9",
              ) -> Settings:
        data = merge(base_config(tmp_path, db_url=db_url, upstream_url=upstream_url),
                     changes or {})
        return parse_settings(data, env={}, base_dir=tmp_path)
    return _make


@pytest.fixture
def settings(make_settings: Any) -> Settings:
    return make_settings()


# --- databases ---------------------------------------------------------------------------


def _pg_admin_url() -> str | None:
    url = os.environ.get(PG_URL_ENV)
    if not url:
        if os.environ.get(REQUIRE_PG_ENV) == "1":
            pytest.fail(f"{REQUIRE_PG_ENV}=1 but {PG_URL_ENV} is not set")
        pytest.skip(f"PostgreSQL tests need {PG_URL_ENV} (e.g. "
                    "postgresql://bridge:bridge@127.0.0.1:5432/postgres); .ci/run starts one")
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test; dropped afterwards."""
    admin_url = _pg_admin_url()
    assert admin_url is not None
    name = f"bridge_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_database_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if os.environ.get(REQUIRE_PG_ENV) == "1":
            pytest.fail(f"PostgreSQL at {PG_URL_ENV} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {PG_URL_ENV} is unreachable: {exc}")
    base, _, _ = normalise_database_url(admin_url).rpartition("/")
    yield f"{base}/{name}"
    _drop_database(admin, name)
    admin.dispose()


def _drop_database(admin: Engine, name: str) -> None:
    # PostgreSQL 15 refuses FORCE while an autovacuum worker is on the database ("must be a
    # member of the role whose process is being terminated"); it is gone within moments.
    for attempt in range(20):
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except ProgrammingError:
            if attempt == 19:
                raise
            time.sleep(0.25)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run the test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bridge.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The database most tests use: a SQLite file. Override with ``any_db_url`` where a test
    must hold on both databases (see tests/integration/conftest.py)."""
    return f"sqlite:///{tmp_path / 'bridge.db'}"


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database.from_settings(settings.database)
    upgrade(database)
    yield database
    database.dispose()


# --- the app, like Flask's tutorial ------------------------------------------------------


@pytest.fixture
def app(settings: Settings, db: Database, memory_registry: UpstreamRegistry) -> Flask:
    app = create_app(settings, db=db, upstreams=memory_registry)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def memory_upstream() -> InMemoryUpstream:
    return InMemoryUpstream(kind="econt", rules=EcontUpstream.rules)


@pytest.fixture
def memory_registry(settings: Settings, memory_upstream: InMemoryUpstream) -> UpstreamRegistry:
    return UpstreamRegistry(settings, overrides={SHOP: memory_upstream})


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
