"""The ``invoice-bridge`` command.

Exit codes scripts can rely on: 0 success; 1 the command ran but its job failed (e.g. a
resync was refused); 2 bad usage or invalid configuration; 3 a dependency is unavailable
(database, upstream).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from dataclasses import dataclass
from typing import Any, NoReturn

import click

from bridge.config import Settings, load_settings
from bridge.errors import ConfigError
from bridge.logs import configure_logging

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3

log = logging.getLogger("bridge.cli")


@dataclass
class Context:
    config_path: str | None
    log_format: str | None
    _settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_path)
            except ConfigError as exc:
                fail(f"configuration error: {exc}", EXIT_USAGE)
            configure_logging(self.log_format or self._settings.log_format,
                              self._settings.log_level)
        return self._settings


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    click.secho(message, fg="red", err=True)
    sys.exit(code)


pass_context = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", envvar="INVOICE_BRIDGE_CONFIG", metavar="PATH",
              help="Configuration file (default: $INVOICE_BRIDGE_CONFIG).")
@click.option("--log-format", type=click.Choice(["json", "text"]), default=None,
              help="Override the configured log format.")
@click.version_option(package_name="invoice-bridge")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, log_format: str | None) -> None:
    """invoice-bridge: WooCommerce order webhooks in, e-Cont.md invoices out."""
    ctx.obj = Context(config_path=config_path, log_format=log_format)


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
    service.serve_forever()
    _exit_without_waiting_for(service.worker.abandoned)


@cli.command()
@pass_context
def worker(ctx: Context) -> None:
    """Only the dispatcher (run beside `gunicorn 'app:create_app()'` for scale-out)."""
    from bridge.dispatch.worker import Worker
    from bridge.storage.database import Database
    from bridge.storage.migrate import upgrade

    settings = ctx.settings()
    db = Database.from_settings(settings.database)
    if settings.database.auto_migrate:
        upgrade(db)
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


@cli.command()
@click.argument("shop")
@click.argument("order_ids", nargs=-1, type=int, required=True)
@click.option("--force", is_flag=True,
              help="Send even if an invoice was already accepted (may create a second one).")
@pass_context
def resync(ctx: Context, shop: str, order_ids: tuple[int, ...], force: bool) -> None:
    """Queue orders to be re-mapped and sent again."""
    from bridge.operations import OperationRefused
    from bridge.operations import resync as resync_order
    from bridge.storage.database import Database
    from bridge.upstreams import UpstreamRegistry

    settings = ctx.settings()
    db = Database.from_settings(settings.database)
    upstreams = UpstreamRegistry(settings)
    refused = 0
    for order_id in order_ids:
        try:
            with db.transaction() as session:
                resync_order(session, settings, upstreams, shop, order_id, force=force,
                             actor="cli")
            click.echo(f"{shop}/{order_id}: queued")
        except OperationRefused as exc:
            refused += 1
            click.secho(f"{shop}/{order_id}: refused ({exc.code}): {exc}", fg="yellow", err=True)
    upstreams.close()
    db.dispose()
    if refused:
        sys.exit(EXIT_FAILED)


@cli.command()
@click.argument("shop")
@click.option("--reason", default=None, help="Why (shown to other operators).")
@pass_context
def pause(ctx: Context, shop: str, reason: str | None) -> None:
    """Pause a shop's dispatch (deliveries are still received and processed)."""
    _set_paused(ctx, shop, True, reason)


@cli.command()
@click.argument("shop")
@pass_context
def resume(ctx: Context, shop: str) -> None:
    """Resume a shop's dispatch, e.g. after fixing credentials the upstream refused."""
    _set_paused(ctx, shop, False, None)


def _set_paused(ctx: Context, shop: str, paused: bool, reason: str | None) -> None:
    from bridge.operations import OperationRefused, set_paused
    from bridge.storage.database import Database

    settings = ctx.settings()
    db = Database.from_settings(settings.database)
    try:
        with db.transaction() as session:
            set_paused(session, settings, shop, paused, reason=reason, actor="cli")
    except OperationRefused as exc:
        fail(f"{shop}: {exc}")
    finally:
        db.dispose()
    click.echo(f"{shop}: {'paused' if paused else 'resumed'}")


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


def main() -> None:
    cli(prog_name="invoice-bridge")


if __name__ == "__main__":
    main()
