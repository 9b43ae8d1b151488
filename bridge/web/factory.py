"""The Flask app factories.

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
from typing import Any

from flask import Flask

from bridge.config.load import load_settings
from bridge.config.model import Settings
from bridge.storage.database import Database
from bridge.upstreams.registry import UpstreamRegistry
from bridge.web.errors import register as register_error_handlers
from bridge.web.runtime import attach
from bridge.wiring import Runtime, build_runtime

PUBLIC, ADMIN, ALL = "public", "admin", "all"


def create_app(settings: Settings | None = None, *, config: str | None = None,
               db: Database | None = None, wake: threading.Event | None = None,
               upstreams: UpstreamRegistry | None = None, runtime: Runtime | None = None,
               part: str | None = None) -> Flask:
    """The web app. ``part``: "public" (webhooks), "admin" (admin API and metrics) or "all";
    by default "all", or "public" when ``[admin] listen`` gives the admin part its own
    listener. Every part answers /healthz and /readyz.

    ``runtime`` (what ``invoice-bridge run`` shares between its apps and its worker) is used
    as it is; otherwise one is built from ``settings`` and ``db``, ``wake``, ``upstreams``.
    A web app never migrates the database (``/readyz`` says when the schema is behind).
    """
    if runtime is None:
        settings = settings or load_settings(config)
        runtime = build_runtime(settings, db=db, upstreams=upstreams, wake=wake)
    settings = runtime.settings
    part = part or (PUBLIC if settings.admin_listen else ALL)
    if part not in (PUBLIC, ADMIN, ALL):
        raise ValueError(f"part: must be public, admin or all, not {part!r}")
    app = Flask("invoice_bridge")
    app.config["MAX_CONTENT_LENGTH"] = settings.server.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    attach(app, runtime)
    # left over from an outage before a restart; imported by the app that receives deliveries
    if part != ADMIN and runtime.store.spool.pending():
        runtime.store.start_importer()

    # The blueprints import bridge.web.runtime, never this module; importing them here, in
    # the factory, as Flask's tutorial does, keeps it that way.
    from bridge import metrics
    from bridge.admin.api import bp as admin_bp
    from bridge.web.health import bp as health_bp
    from bridge.web.metrics import bp as metrics_bp
    from webhooks.woocommerce import bp as webhooks_bp

    metrics.register_shops(settings.shops)
    if part != ADMIN:
        app.register_blueprint(webhooks_bp)
    if part != PUBLIC:
        app.register_blueprint(admin_bp)
        app.register_blueprint(metrics_bp)
    app.register_blueprint(health_bp)
    register_error_handlers(app)
    return app


def create_admin_app(settings: Settings | None = None, **kwargs: Any) -> Flask:
    """Only the admin API and /metrics (and the health probes), for a listener of its own:
    ``gunicorn -b 127.0.0.1:8081 'app:create_admin_app()'``."""
    return create_app(settings, part=ADMIN, **kwargs)
