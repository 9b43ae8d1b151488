"""Commands that serve: run, worker, migrate, demo, sandbox."""

from __future__ import annotations

import logging
import os
import signal
import sys
from typing import Any

import click

from bridge.cli import EXIT_OK, EXIT_UNAVAILABLE, Context, cli, fail, pass_context


@cli.command()
@pass_context
def migrate(ctx: Context) -> None:
    """Create or upgrade the database schema to the newest migration."""
    from bridge.storage.database import Database
    from bridge.storage.migrate import current_revision, upgrade

    settings = ctx.settings()
    db = Database.from_settings(settings.database)
    try:
        upgrade(db)
        click.echo(f"database at revision {current_revision(db)}")
    except Exception as exc:
        fail(f"migration failed: {exc}", EXIT_UNAVAILABLE)
    finally:
        db.dispose()


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
    from bridge.storage.database import Database
    from bridge.storage.migrate import upgrade

    settings = ctx.settings()
    db = Database.from_settings(settings.database)
    if settings.database.auto_migrate:
        upgrade(db)
    metrics.register_shops(settings.shops)
    instance = Worker(settings, db)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: instance.stop())
    instance.run()
    db.dispose()
    _exit_without_waiting_for(instance.abandoned)


@cli.command()
@click.option("--dir", "directory", default=None, metavar="PATH",
              help="Keep the demo's database and config here (default: a temporary folder).")
def demo(directory: str | None) -> None:
    """Start the e-Cont.md simulator and the bridge, deliver sample orders as WooCommerce
    would, and print the resulting sync table and invoices."""
    from bridge.demo import run_demo

    sys.exit(run_demo(directory))


@cli.group()
def sandbox() -> None:
    """Simulators of the upstream services, for trying things out and for tests."""


@sandbox.command("econt")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--repeated-order", type=click.Choice(["reject", "return_existing", "create_new"]),
              default="reject", show_default=True,
              help="What a repeated order.id does (undocumented by e-Cont.md).")
@click.option("--account", "accounts", multiple=True, metavar="CLIENT:TOKEN",
              help="Extra accepted credentials (32 hex each); a demo pair is always accepted.")
@click.option("--latency", type=float, default=0.0, help="Seconds added to every answer.")
@click.option("--no-check-totals", is_flag=True, help="Do not check that items add up.")
def sandbox_econt(host: str, port: int, repeated_order: str, accounts: tuple[str, ...],
                  latency: float, no_check_totals: bool) -> None:
    """Run the e-Cont.md simulator (put/invoice, strict validation, fault switches)."""
    from bridge.upstreams.econt.simulator import serve_forever

    pairs = []
    for account in accounts:
        client, _, token = account.partition(":")
        pairs.append((client, token))
    serve_forever(port=port, host=host, repeated_order=repeated_order, accounts=pairs,
                  latency=latency, check_totals=not no_check_totals)



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
