"""WSGI entry points: ``flask --app app run`` or ``gunicorn 'app:create_app()'``.

The configuration file is read from ``$INVOICE_BRIDGE_CONFIG``. ``create_app()`` serves
everything, unless ``[admin] listen`` is set: it then serves the webhooks (and the health
probes) only, and ``create_admin_app()`` serves the admin API and /metrics, on an address of
their own: ``gunicorn -b 127.0.0.1:8081 'app:create_admin_app()'``.
"""

from bridge.web import create_admin_app, create_app

__all__ = ["create_admin_app", "create_app"]
