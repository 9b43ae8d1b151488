"""The Flask app factories and what every request can reach.

``app.py`` at the top of the repository exposes them for ``flask --app app`` and for WSGI
servers. Settings come from ``--config``/``$INVOICE_BRIDGE_CONFIG`` unless passed in (tests
pass them in).

Which parts an app serves: the *public* part is the webhook receiver; the *admin* part is
``/admin/api`` and ``/metrics``; both answer the health probes. Without ``[admin] listen``
one app serves everything (``create_app()``, as before that setting existed). With it,
``create_app()`` serves only the public part and ``create_admin_app()`` only the admin part,
for a listener of its own (``invoice-bridge run`` starts both;
``gunicorn 'app:create_app()'`` and ``gunicorn -b 127.0.0.1:8081 'app:create_admin_app()'``
under gunicorn).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from flask import Flask, current_app, g, jsonify
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from bridge.config.load import load_settings
from bridge.config.model import Settings
from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore
from bridge.storage.database import Database
from bridge.upstreams.registry import UpstreamRegistry

EXTENSION = "invoice_bridge"


@dataclass
class Runtime:
    """What the web process holds for its whole life."""

    settings: Settings
    db: Database
    store: DeliveryStore
    #: set on every stored delivery, so an in-process worker (``run``) wakes at once
    wake: threading.Event
    given_upstreams: UpstreamRegistry | None = None

    @cached_property
    def upstreams(self) -> UpstreamRegistry:
        """Adapters, for rendering payloads on operator actions (the web never sends)."""
        return self.given_upstreams or UpstreamRegistry(self.settings)


class ApiError(Exception):
    """An error answered as JSON: ``{"error": {"code": ..., "message": ...}}``."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


PUBLIC, ADMIN, ALL = "public", "admin", "all"


def create_app(settings: Settings | None = None, *, config: str | None = None,
               db: Database | None = None, wake: threading.Event | None = None,
               upstreams: UpstreamRegistry | None = None, part: str | None = None) -> Flask:
    """The web app. ``part``: "public" (webhooks), "admin" (admin API and metrics) or "all";
    by default "all", or "public" when ``[admin] listen`` gives the admin part its own
    listener. Every part answers /healthz and /readyz."""
    settings = settings or load_settings(config)
    part = part or (PUBLIC if settings.admin_listen else ALL)
    if part not in (PUBLIC, ADMIN, ALL):
        raise ValueError(f"part: must be public, admin or all, not {part!r}")
    db = db or Database.from_settings(settings.database)
    app = Flask("invoice_bridge")
    app.config["MAX_CONTENT_LENGTH"] = settings.server.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    runtime = Runtime(settings=settings, db=db,
                      store=DeliveryStore(db, Spool(settings.server.spool_dir)),
                      wake=wake or threading.Event(), given_upstreams=upstreams)
    app.extensions[EXTENSION] = runtime
    # left over from an outage before a restart; imported by the app that receives deliveries
    if part != ADMIN and runtime.store.spool.pending():
        runtime.store.start_importer()

    from bridge import metrics
    from bridge.admin.api import bp as admin_bp
    from bridge.health import bp as health_bp
    from webhooks.woocommerce import bp as webhooks_bp

    metrics.register_shops(settings.shops)
    if part != ADMIN:
        app.register_blueprint(webhooks_bp)
    if part != PUBLIC:
        app.register_blueprint(admin_bp)
        app.register_blueprint(metrics.bp)
    app.register_blueprint(health_bp)
    app.teardown_appcontext(_close_session)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    return app


def create_admin_app(settings: Settings | None = None, **kwargs: Any) -> Flask:
    """Only the admin API and /metrics (and the health probes), for a listener of its own:
    ``gunicorn -b 127.0.0.1:8081 'app:create_admin_app()'``."""
    return create_app(settings, part=ADMIN, **kwargs)


def current_runtime() -> Runtime:
    return current_app.extensions[EXTENSION]


def get_session(*, write: bool = False) -> Session:
    """This request's database session, closed on teardown (like Flask's tutorial).

    Read sessions never take SQLite's write lock; pass ``write=True`` to change data (and
    wrap the change in ``session.begin()``).
    """
    key = "db_writer" if write else "db_reader"
    if key not in g:
        db = current_runtime().db
        setattr(g, key, db.session() if write else db.reader_session())
    return getattr(g, key)


def _close_session(_exc: BaseException | None) -> None:
    for key in ("db_writer", "db_reader"):
        session = g.pop(key, None)
        if session is not None:
            session.close()


def error_response(status: int, code: str, message: str, **details: Any) -> tuple[Any, int]:
    """The one JSON error shape of every endpoint."""
    return jsonify({"error": {"code": code, "message": message, **details}}), status


def _api_error(error: ApiError) -> Any:
    details = dict(error.details)
    headers = details.pop("_headers", None)
    body, status = error_response(error.status, error.code, error.message, **details)
    return (body, status, headers) if headers else (body, status)


def _http_error(error: HTTPException) -> tuple[Any, int, list[tuple[str, str]]]:
    code = (error.name or "error").lower().replace(" ", "_")
    body, status = error_response(error.code or 500, code, error.description or "")
    # werkzeug's own headers (405's Allow, 416's Content-Range ...), minus the content type:
    # the body is ours, and JSON
    headers = [(name, value) for name, value in error.get_headers()
               if name.lower() != "content-type"]
    return body, status, headers
