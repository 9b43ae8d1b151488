"""Which database failures are an outage, and how a failure is described in a reason.

An *outage* is the connection or the server failing (``OperationalError``,
``InterfaceError``, a connection SQLAlchemy had to invalidate): nothing is wrong with what we
asked, so we wait and ask again, for as long as it takes. Anything else -- the database
refusing one statement (``DataError``: a value it cannot take, ``IntegrityError``, ...) or an
exception of ours -- belongs to the one item being handled (a delivery, an answer to record)
and must never hold up the others.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

#: longest description of a failure kept in a reason or a log line
DESCRIBE_LIMIT = 500
def is_outage(exc: BaseException) -> bool:
    """True when the database (connection or server) failed, not the statement."""
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


def describe(exc: BaseException) -> str:
    """``Type: first line of the message``, bounded (a DBAPIError's text holds the whole
    statement and its parameters: a delivery's body, megabytes of it)."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig  # the driver's own message, without SQLAlchemy's statement dump
    lines = str(exc).splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text if len(text) <= DESCRIBE_LIMIT else text[:DESCRIBE_LIMIT - 1] + "…"
