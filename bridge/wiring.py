"""The one place that wires the parts of a running bridge together.

The web app, the worker, the embedded ``run`` and every command build what they hold for
their whole life with ``build_runtime``: the database, the delivery store (database plus
spool), the upstream adapters and the event that wakes a worker. What a caller already has
(a test's database, an in-memory upstream, the wake event shared by ``run``'s receiver and
worker) is passed in and used as it is.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import StrEnum

from bridge.config.model import Settings
from bridge.errors import RefusalKind, Refused
from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore
from bridge.storage.database import Database
from bridge.upstreams.registry import UpstreamRegistry


class Migrate(StrEnum):
    """What ``build_runtime`` does to the database schema."""

    #: leave it alone: a web replica never migrates (``/readyz`` says when it is behind), and
    #: ``check-config`` only looks
    NO = "no"
    #: upgrade it when ``[database] auto_migrate`` is on (``run``, ``worker``)
    IF_AUTO = "if_auto"
    #: ... and otherwise refuse (unavailable) unless it is at the newest migration: the
    #: operator's commands
    IF_AUTO_ELSE_REQUIRE = "if_auto_else_require"


@dataclass
class Runtime:
    """What a process holds for its whole life."""

    settings: Settings
    db: Database
    store: DeliveryStore
    #: set on every stored delivery and operator action, so an in-process worker wakes at once
    wake: threading.Event
    given_upstreams: UpstreamRegistry | None = None
    _built_upstreams: UpstreamRegistry | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def upstreams(self) -> UpstreamRegistry:
        """The adapters of the configured shops, built on first use (the web app only needs
        them to render a payload on a resync; most commands never do)."""
        if self.given_upstreams is not None:
            return self.given_upstreams
        with self._lock:  # request threads may ask at the same moment
            if self._built_upstreams is None:
                self._built_upstreams = UpstreamRegistry(self.settings)
            return self._built_upstreams

    def close(self) -> None:
        """Close the adapters built here and the database's connections."""
        with self._lock:
            built, self._built_upstreams = self._built_upstreams, None
        if built is not None:
            built.close()
        self.db.dispose()


def build_runtime(settings: Settings, *, db: Database | None = None,
                  upstreams: UpstreamRegistry | None = None,
                  wake: threading.Event | None = None,
                  migrate: Migrate = Migrate.NO) -> Runtime:
    """The runtime for ``settings``; ``db``, ``upstreams`` and ``wake`` are used when given.

    Raises ``Refused`` (unavailable) when ``migrate`` asks for a schema the database cannot
    give: unreachable, or behind the newest migration without ``auto_migrate``.
    """
    own_db = db is None
    db = db or Database.from_settings(settings.database)
    try:
        _prepare_schema(db, settings, migrate)
    except BaseException:
        if own_db:
            db.dispose()
        raise
    return Runtime(settings=settings, db=db,
                   store=DeliveryStore(db, Spool(settings.server.spool_dir)),
                   wake=wake or threading.Event(), given_upstreams=upstreams)


def _prepare_schema(db: Database, settings: Settings, migrate: Migrate) -> None:
    from sqlalchemy.exc import DBAPIError

    from bridge.storage.migrate import is_at_head, upgrade

    if migrate == Migrate.NO:
        return
    try:
        if settings.database.auto_migrate:
            upgrade(db)
        elif migrate == Migrate.IF_AUTO_ELSE_REQUIRE and not is_at_head(db):
            raise Refused("schema_behind", "the database schema is not at the newest "
                          "migration; run `invoice-bridge migrate`", RefusalKind.UNAVAILABLE)
    except DBAPIError as exc:
        raise Refused("database_unavailable",
                      f"database unavailable: {str(exc).splitlines()[0]}",
                      RefusalKind.UNAVAILABLE) from exc
