"""The embedded default: web receiver + worker in one process (``invoice-bridge run``).

The web side is served by waitress (a production WSGI server, pure Python); the worker runs
in a thread beside it and is woken by every stored delivery. ``demo`` and the acceptance
tests start exactly this, on a free port, and stop it with ``stop()``.

The server refuses request headers (request line included) over ``MAX_HEADER_BYTES`` with
431 and bodies over ``server.max_body_bytes`` with 413 before the app reads them: a request
the app never sees costs no work and leaves no log line.
"""

from __future__ import annotations

import logging
import threading

from waitress.server import create_server

from bridge.config import Settings
from bridge.dispatch.worker import Worker
from bridge.storage.database import Database
from bridge.storage.migrate import upgrade
from bridge.upstreams import UpstreamRegistry
from bridge.web import create_app

log = logging.getLogger(__name__)

#: request line plus headers. WooCommerce sends about 1 KB; a reverse proxy adds a few
#: X-Forwarded-* lines. (waitress's own default is 256 KB.)
MAX_HEADER_BYTES = 16 * 1024


class EmbeddedService:
    def __init__(self, settings: Settings, *, host: str | None = None, port: int | None = None,
                 db: Database | None = None, upstreams: UpstreamRegistry | None = None,
                 threads: int = 8) -> None:
        self.settings = settings
        self.db = db or Database.from_settings(settings.database)
        if settings.database.auto_migrate:
            upgrade(self.db)
        self.wake = threading.Event()
        self.worker = Worker(settings, self.db, upstreams=upstreams, wake=self.wake)
        self.app = create_app(settings, db=self.db, wake=self.wake, upstreams=upstreams)
        self.server = create_server(
            self.app,
            host=host if host is not None else settings.server.host,
            port=port if port is not None else settings.server.port,
            threads=threads, ident="invoice-bridge", clear_untrusted_proxy_headers=True,
            max_request_header_size=MAX_HEADER_BYTES,
            max_request_body_size=settings.server.max_body_bytes,
        )
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://{self.server.effective_host}:{self.server.effective_port}"

    def start(self) -> EmbeddedService:
        """Serve and work in background threads (for demo and tests)."""
        for target, name in ((self.worker.run, "worker"), (self.server.run, "web")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("invoice-bridge started", extra={"url": self.url})
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (``run``): Ctrl-C or SIGTERM."""
        worker = threading.Thread(target=self.worker.run, name="worker", daemon=True)
        worker.start()
        log.info("invoice-bridge running", extra={"url": self.url})
        try:
            self.server.run()
        except KeyboardInterrupt:
            pass
        finally:
            self.server.close()
            self.worker.stop()
            worker.join(self.settings.dispatch.shutdown_grace + 5)
            self.db.dispose()

    def stop(self) -> None:
        self.server.close()
        self.worker.stop()
        for thread in self._threads:
            thread.join(self.settings.dispatch.shutdown_grace + 5)
        self.db.dispose()

    def __enter__(self) -> EmbeddedService:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
