"""The app factories gunicorn runs: with ``[admin] listen``, ``create_app()`` serves the
webhooks and ``create_admin_app()`` the admin API and /metrics; without it, ``create_app()``
serves everything, as before the setting existed. And the error answers they share."""

from __future__ import annotations

from typing import Any

import pytest

import app as wsgi_entry
from bridge.storage.database import Database
from tests.conftest import SHOP, admin_headers

ADMIN_PATHS = ("/admin/api/shops", "/admin/api/openapi.json", "/metrics")


def answers(app: Any) -> dict[str, int]:
    client = app.test_client()
    out = {path: client.get(path, headers=admin_headers()).status_code for path in ADMIN_PATHS}
    out["webhook"] = client.post(f"/webhooks/woocommerce/{SHOP}", data=b"{}").status_code
    out["healthz"] = client.get("/healthz").status_code
    out["readyz"] = client.get("/readyz").status_code
    return out


def test_without_admin_listen_one_app_serves_everything(make_settings: Any,
                                                        db: Database) -> None:
    assert answers(wsgi_entry.create_app(make_settings(), db=db)) == {
        "/admin/api/shops": 200, "/admin/api/openapi.json": 200, "/metrics": 200,
        "webhook": 401, "healthz": 200, "readyz": 200}


def test_with_admin_listen_the_parts_are_split(make_settings: Any, db: Database) -> None:
    settings = make_settings({"admin": {"listen": "127.0.0.1:8081"}})
    assert answers(wsgi_entry.create_app(settings, db=db)) == {
        "/admin/api/shops": 404, "/admin/api/openapi.json": 404, "/metrics": 404,
        "webhook": 401, "healthz": 200, "readyz": 200}
    assert answers(wsgi_entry.create_admin_app(settings, db=db)) == {
        "/admin/api/shops": 200, "/admin/api/openapi.json": 200, "/metrics": 200,
        "webhook": 404, "healthz": 200, "readyz": 200}


def test_an_unknown_part_is_refused(make_settings: Any, db: Database) -> None:
    with pytest.raises(ValueError, match="part: must be public, admin or all"):
        wsgi_entry.create_app(make_settings(), db=db, part="everything")
