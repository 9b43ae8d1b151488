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
