"""Commands that serve: run, worker, migrate."""

from __future__ import annotations

import logging
import os
import signal
import sys
from typing import Any

import click

from bridge.cli import EXIT_OK, EXIT_UNAVAILABLE, Context, cli, fail, pass_context
from bridge.wiring import Migrate


@cli.command()
@pass_context
def migrate(ctx: Context) -> None:
    """Create or upgrade the database schema to the newest migration."""
    from bridge.storage.migrate import current_revision, upgrade

    runtime = ctx.runtime(Migrate.NO)
    try:
        upgrade(runtime.db)
        click.echo(f"database at revision {current_revision(runtime.db)}")
    except Exception as exc:
        fail(f"migration failed: {exc}", EXIT_UNAVAILABLE)
    finally:
        runtime.close()


@cli.command()
@click.option("--host", default=None, help="Listen address (default: server.host).")
@click.option("--port", type=int, default=None, help="Listen port (default: server.port).")
@pass_context
def run(ctx: Context, host: str | None, port: int | None) -> None:
    """Web receiver and worker in one process (the embedded default, SQLite)."""
    from bridge.embedded import EmbeddedService

    service = EmbeddedService(ctx.settings(), host=host, port=port)
    _interrupt_on_sigterm()
    click.echo(f"invoice-bridge listening on {service.url} "
               f"(webhooks: {service.url}/webhooks/woocommerce/<shop>)", err=True)
    if service.admin_server is not None:
        click.echo(f"admin API and metrics on {service.admin_url} "
                   f"({service.admin_url}/admin/api, {service.admin_url}/metrics)", err=True)
    service.serve_forever()
    _exit_without_waiting_for(service.worker.abandoned)


@cli.command()
@pass_context
def worker(ctx: Context) -> None:
    """Only the dispatcher (run beside `gunicorn 'app:create_app()'` for scale-out)."""
    from bridge import metrics
    from bridge.dispatch.worker import Worker

    runtime = ctx.runtime(Migrate.IF_AUTO)
    metrics.register_shops(runtime.settings.shops)
    instance = Worker(runtime.settings, runtime.db, upstreams=runtime.upstreams,
                      wake=runtime.wake)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: instance.stop())
    instance.run()
    runtime.close()
    _exit_without_waiting_for(instance.abandoned)


def _exit_without_waiting_for(abandoned: int) -> None:
    """Python joins pool threads at exit; a request hung past the shutdown grace was already
    released (its row is settled), so do not let it hold the process."""
    if abandoned:
        logging.shutdown()
        sys.stdout.flush()
        os._exit(EXIT_OK)


def _interrupt_on_sigterm() -> None:
    def _handler(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _handler)
