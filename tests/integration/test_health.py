"""Probes: /healthz never touches the database; /readyz names what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from bridge.storage.database import Database
from bridge.web import create_app


def test_healthz_is_cheap(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_ok_when_migrated(client: FlaskClient) -> None:
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"]
    assert body["checks"]["migrations"]["current"] == body["checks"]["migrations"]["head"]


def test_readyz_503_when_not_migrated(make_settings: Any, tmp_path: Path) -> None:
    settings = make_settings({"database": {"url": f"sqlite:///{tmp_path / 'empty.db'}"}})
    client = create_app(settings).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failing"] == ["migrations"]


def test_readyz_503_when_database_unreachable(make_settings: Any, tmp_path: Path) -> None:
    settings = make_settings({"database": {"url": f"sqlite:///{tmp_path}/no/such/dir/x.db"}})
    client = create_app(settings, db=Database(settings.database.url)).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failing"] == ["database", "migrations"]
    assert client.get("/healthz").status_code == 200  # liveness does not depend on it


def test_readyz_reports_work_without_failing_on_it(client: FlaskClient, make_settings: Any,
                                                   db: Database) -> None:
    body = client.get("/readyz").get_json()
    assert body["status"] == "ready" and body["warnings"] == ["workers"]  # no worker yet
    assert body["checks"]["workers"] == {"ok": False, "live": 0,
                                         "newest_heartbeat_age_seconds": None}
    assert body["checks"]["backlog"]["oldest_due_age_seconds"] == 0.0
    assert body["checks"]["spool"] == {"ok": True, "files": 0}

    strict = create_app(make_settings({"health": {"strict": True}}), db=db).test_client()
    response = strict.get("/readyz")
    assert response.status_code == 503 and response.get_json()["failing"] == ["workers"]


def test_readyz_sees_live_workers_and_an_old_backlog(client: FlaskClient, settings: Any,
                                                     db: Database) -> None:
    from datetime import timedelta

    from bridge.clock import utcnow
    from bridge.dispatch.worker import Worker
    from bridge.storage.models import OrderSync

    Worker(settings, db, worker_id="w-ready").heartbeat(force=True)
    with db.transaction() as session:
        session.add(OrderSync(shop="shop", order_id=1, state="retrying", upstream="econt",
                              next_attempt_at=utcnow() - timedelta(hours=1), payload={}))
    body = client.get("/readyz").get_json()
    assert body["checks"]["workers"]["ok"] and body["checks"]["workers"]["live"] == 1
    backlog = body["checks"]["backlog"]
    assert not backlog["ok"] and backlog["oldest_due_age_seconds"] >= 3600
    assert backlog["by_state"] == {"retrying": 1}
    assert body["warnings"] == ["backlog"] and body["status"] == "ready"


def _statements(db: Database) -> list[str]:
    """Every SQL statement ``db`` runs from now on (BEGIN included: on SQLite it is ours)."""
    from sqlalchemy import event

    seen: list[str] = []
    event.listen(db.engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_args: seen.append(statement))
    return seen


def test_readyz_is_read_only_and_quiet(client: FlaskClient, db: Database,
                                       caplog: Any) -> None:
    import logging
    import re

    client.get("/readyz")  # the first probe may set things up; the next ones must not
    statements = _statements(db)
    with caplog.at_level(logging.DEBUG):
        body = client.get("/readyz").get_json()
    assert body["checks"]["migrations"]["ok"], body
    writes = [s for s in statements
              if re.match(r"\s*(BEGIN IMMEDIATE|BEGIN EXCLUSIVE|INSERT|UPDATE|DELETE|LOCK)", s,
                          re.IGNORECASE)]
    assert statements and writes == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == []


def test_readyz_answers_while_another_connection_holds_the_write_lock(
        client: FlaskClient, db: Database) -> None:
    import sqlite3

    import pytest

    if db.is_postgres:
        pytest.skip("PostgreSQL readers never wait for writers; the write lock is SQLite's")
    holder = sqlite3.connect(db.engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # e.g. a long migration, or a writer stuck on a disk
    try:
        response = client.get("/readyz")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    body = response.get_json()
    assert response.status_code == 200 and body["checks"]["migrations"]["ok"], body
