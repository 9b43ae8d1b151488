"""The web edge, laid out like Flask's tutorial.

- ``factory``: ``create_app`` / ``create_admin_app`` build an app and register the
  blueprints (imported inside the factory, so no blueprint ever imports it);
- ``runtime``: what a request can reach -- ``current_runtime()``, ``get_session()`` -- the
  small module every blueprint imports;
- ``errors``: every error answered in the one JSON shape, refusals mapped to HTTP statuses;
- ``health`` (``/healthz``, ``/readyz``) and ``metrics`` (``/metrics``): blueprints of their
  own. The webhook receiver is the top-level ``webhooks`` package, the admin API
  ``bridge.admin``.

``app.py`` at the top of the repository (``flask --app app``, ``gunicorn 'app:create_app()'``)
and ``gunicorn 'bridge.web:create_app()'`` both reach the factory through this package.
"""

from bridge.web.factory import create_admin_app, create_app

__all__ = ["create_admin_app", "create_app"]
