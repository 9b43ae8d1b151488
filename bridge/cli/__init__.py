"""The ``invoice-bridge`` command: the group and what every subcommand shares.

Subcommands live in ``serve`` (run, worker, migrate) and ``operate`` (status, resync, skip,
pause/resume, backfill, check-config). Other packages add commands through the
``invoice_bridge.commands`` entry point group: the sandbox adds ``demo`` and ``sandbox``.

Exit codes scripts can rely on: 0 success; 1 the command ran but its job failed or found a
problem (a resync refused, a check failed, ``status --check`` found rows needing attention);
2 bad usage or invalid configuration; 3 a dependency is unavailable (database, upstream, shop).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import NoReturn

import click

from bridge.config.load import load_settings
from bridge.config.model import Settings
from bridge.errors import ConfigError
from bridge.logs import configure_logging
from bridge.storage.database import Database

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3
#: entry point group of commands that other packages add to ``invoice-bridge``
PLUGIN_COMMANDS = "invoice_bridge.commands"



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

    def database(self) -> Database:
        """The database, with its schema at the newest migration: migrated here when
        ``auto_migrate`` is on (the SQLite default), else a clear error and exit code 3."""
        from sqlalchemy.exc import DBAPIError

        from bridge.storage.migrate import is_at_head, upgrade

        settings = self.settings()
        db = Database.from_settings(settings.database)
        try:
            if settings.database.auto_migrate:
                upgrade(db)
            elif not is_at_head(db):
                fail("the database schema is not at the newest migration; run "
                     "`invoice-bridge migrate`", EXIT_UNAVAILABLE)
        except DBAPIError as exc:
            fail(f"database unavailable: {str(exc).splitlines()[0]}", EXIT_UNAVAILABLE)
        return db


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


def main() -> None:
    cli(prog_name="invoice-bridge")


def _add_plugin_commands() -> None:
    """Commands other installed packages offer (``invoice_bridge.commands`` entry points)."""
    for entry in entry_points(group=PLUGIN_COMMANDS):
        command = entry.load()
        if isinstance(command, click.Command):
            cli.add_command(command, entry.name)


# Importing the modules registers their subcommands on ``cli`` (they import it from here).
from bridge.cli import operate, serve  # noqa: E402, F401

_add_plugin_commands()
