"""The embedded default: web receiver + worker in one process (``invoice-bridge run``).

The web side is served by waitress (a production WSGI server, pure Python); the worker runs
in a thread beside it and is woken by every stored delivery. ``demo`` and the acceptance
tests start exactly this, on a free port, and stop it with ``stop()``.

With ``[admin] listen``, a second waitress server answers the admin API and /metrics on that
address, and the public one only the webhooks (both answer the health probes).

Both servers refuse request headers (request line included) over ``MAX_HEADER_BYTES`` with
431 and bodies over ``server.max_body_bytes`` with 413 before the app reads them: a request
the app never sees costs no work and leaves no log line.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from typing import Any

from flask import Flask
from waitress.server import create_server

from bridge.config.model import Settings
from bridge.dispatch.worker import Worker
from bridge.storage.database import Database
from bridge.upstreams.registry import UpstreamRegistry
from bridge.web.factory import ADMIN, ALL, PUBLIC, create_app
from bridge.wiring import Migrate, build_runtime

log = logging.getLogger(__name__)

#: request line plus headers. WooCommerce sends about 1 KB; a reverse proxy adds a few
#: X-Forwarded-* lines. (waitress's own default is 256 KB.)
MAX_HEADER_BYTES = 16 * 1024
ADMIN_THREADS = 2


class EmbeddedService:
    def __init__(self, settings: Settings, *, host: str | None = None, port: int | None = None,
                 db: Database | None = None, upstreams: UpstreamRegistry | None = None,
                 threads: int = 8, admin_port: int | None = None) -> None:
        """``host``/``port`` override ``[server]``; ``admin_port`` overrides the port of
        ``[admin] listen`` (0: any free port, for tests)."""
        self.settings = settings
        # one runtime for the apps and the worker: one database pool, one set of adapters,
        # and the wake event by which the receiver starts the worker at once
        self.runtime = build_runtime(settings, db=db, upstreams=upstreams,
                                     migrate=Migrate.IF_AUTO)
        self.db, self.wake = self.runtime.db, self.runtime.wake
        self.worker = Worker(settings, self.db, upstreams=self.runtime.upstreams,
                             wake=self.wake)
        admin = settings.admin_listen
        self.app = create_app(runtime=self.runtime, part=PUBLIC if admin else ALL)
        self.server = self._serve(self.app, host if host is not None else settings.server.host,
                                  port if port is not None else settings.server.port, threads)
        self.admin_app: Flask | None = None
        self.admin_server: Any = None
        if admin is not None:
            self.admin_app = create_app(runtime=self.runtime, part=ADMIN)
            self.admin_server = self._serve(
                self.admin_app, admin.host, admin_port if admin_port is not None else admin.port,
                ADMIN_THREADS)
        elif not _is_loopback(self.server.effective_host):
            log.warning("the admin API and /metrics answer on the public listener; set "
                        "[admin] listen to give them an address of their own",
                        extra={"url": self.url})
        self._threads: list[threading.Thread] = []

    def _serve(self, app: Flask, host: str, port: int, threads: int) -> Any:
        return create_server(
            app, host=host, port=port, threads=threads, ident="invoice-bridge",
            clear_untrusted_proxy_headers=True, max_request_header_size=MAX_HEADER_BYTES,
            max_request_body_size=self.settings.server.max_body_bytes,
        )

    @property
    def url(self) -> str:
        return _url(self.server)

    @property
    def admin_url(self) -> str:
        """Where the admin API and /metrics answer (the public URL without [admin] listen)."""
        return _url(self.admin_server) if self.admin_server is not None else self.url

    def _servers(self) -> list[Any]:
        return [s for s in (self.server, self.admin_server) if s is not None]

    def start(self) -> EmbeddedService:
        """Serve and work in background threads (for demo and tests)."""
        targets = [(self.worker.run, "worker")] + [
            (server.run, f"web-{index}") for index, server in enumerate(self._servers())]
        for target, name in targets:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("invoice-bridge started", extra={"url": self.url, "admin_url": self.admin_url})
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (``run``): Ctrl-C or SIGTERM."""
        worker = threading.Thread(target=self.worker.run, name="worker", daemon=True)
        worker.start()
        if self.admin_server is not None:
            threading.Thread(target=self.admin_server.run, name="web-admin", daemon=True).start()
        log.info("invoice-bridge running", extra={"url": self.url, "admin_url": self.admin_url})
        try:
            self.server.run()
        except KeyboardInterrupt:
            pass
        finally:
            for server in self._servers():
                server.close()
            self.worker.stop()
            worker.join(self.settings.dispatch.shutdown_grace + 5)
            self.runtime.close()

    def stop(self) -> None:
        for server in self._servers():
            server.close()
        self.worker.stop()
        for thread in self._threads:
            thread.join(self.settings.dispatch.shutdown_grace + 5)
        self.runtime.close()

    def __enter__(self) -> EmbeddedService:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _url(server: Any) -> str:
    host = server.effective_host
    return f"http://{f'[{host}]' if ':' in host else host}:{server.effective_port}"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
