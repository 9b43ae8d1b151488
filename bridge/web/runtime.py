"""What a request can reach: the process's ``Runtime`` and this request's database session.

Blueprints import this module, never the factory (``bridge.web.factory``), which imports them.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from bridge.wiring import Runtime

#: where the factory keeps the runtime, in ``app.extensions``
EXTENSION = "invoice_bridge"


def attach(app: Flask, runtime: Runtime) -> None:
    """Make ``runtime`` this app's, and close each request's sessions on teardown."""
    app.extensions[EXTENSION] = runtime
    app.teardown_appcontext(_close_sessions)


def current_runtime() -> Runtime:
    runtime: Runtime = current_app.extensions[EXTENSION]
    return runtime


def get_session(*, write: bool = False) -> Session:
    """This request's database session, closed on teardown (like Flask's tutorial).

    Read sessions never take SQLite's write lock; pass ``write=True`` to change data (and
    wrap the change in ``session.begin()``).
    """
    key = "db_writer" if write else "db_reader"
    if key not in g:
        db = current_runtime().db
        setattr(g, key, db.session() if write else db.reader_session())
    session: Session = getattr(g, key)
    return session


def _close_sessions(_exc: BaseException | None) -> None:
    for key in ("db_writer", "db_reader"):
        session = g.pop(key, None)
        if session is not None:
            session.close()
