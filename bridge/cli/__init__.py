"""The ``invoice-bridge`` command: the group and what every subcommand shares.

Subcommands live in ``serve`` (run, worker, migrate) and ``operate`` (status, resync, skip,
pause/resume, backfill, check-config). Other packages add commands through the
``invoice_bridge.commands`` entry point group: the sandbox adds ``demo`` and ``sandbox``.

Exit codes scripts can rely on: 0 success; 1 the command ran but its job failed or found a
problem (a resync refused, a check failed, ``status --check`` found rows needing attention);
2 bad usage or invalid configuration; 3 a dependency is unavailable (database, upstream, shop).
A ``Refused`` (``bridge.errors``) exits with the code of its kind (``EXIT_CODE``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, NoReturn

import click

from bridge.config.load import load_settings
from bridge.config.model import Settings
from bridge.errors import ConfigError, RefusalKind, Refused
from bridge.logs import configure_logging
from bridge.wiring import Migrate, Runtime, build_runtime

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3
#: the exit code of a refusal, by kind; every other kind is "the job failed" (1)
EXIT_CODE = {RefusalKind.INVALID: EXIT_USAGE, RefusalKind.UNAVAILABLE: EXIT_UNAVAILABLE}
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

    def runtime(self, migrate: Migrate = Migrate.IF_AUTO_ELSE_REQUIRE) -> Runtime:
        """What the command works with (``bridge.wiring``). By default the database schema
        is at the newest migration: migrated here when ``auto_migrate`` is on (the SQLite
        default), else a refusal (exit code 3) saying to run ``invoice-bridge migrate``."""
        return build_runtime(self.settings(), migrate=migrate)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    click.secho(message, fg="red", err=True)
    sys.exit(code)


def fail_refused(refusal: Refused, about: str | None = None) -> NoReturn:
    """Print a refusal (after what it is about: ``shop``, ``shop/1201``) and exit with the
    code of its kind."""
    fail(f"{about}: {refusal.message}" if about else refusal.message,
         EXIT_CODE.get(refusal.kind, EXIT_FAILED))


class BridgeCommands(click.Group):
    """The command group: a refusal no command handled itself exits with its code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Refused as refusal:
            fail_refused(refusal)


pass_context = click.make_pass_decorator(Context)


@click.group(cls=BridgeCommands, context_settings={"help_option_names": ["-h", "--help"]})
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
