"""WSGI entry point: ``flask --app app run`` or ``gunicorn 'app:create_app()'``.

The configuration file is read from ``$INVOICE_BRIDGE_CONFIG``.
"""

from bridge.web import create_app

__all__ = ["create_app"]
