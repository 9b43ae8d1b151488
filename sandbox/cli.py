"""``invoice-bridge demo`` and ``invoice-bridge sandbox ...``.

These commands live with the simulators they start. ``invoice-bridge`` finds them through the
``invoice_bridge.commands`` entry point (pyproject.toml), so the product never imports the
sandbox.
"""

from __future__ import annotations

import sys

import click

from sandbox.upstreams import SANDBOXES


@click.command()
@click.option("--dir", "directory", default=None, metavar="PATH",
              help="Keep the demo's database and config here (default: a temporary folder).")
@click.option("--upstream", type=click.Choice(list(SANDBOXES)), default="econt",
              show_default=True, help="Which invoicing service to simulate.")
@click.option("--write-back/--no-write-back", default=True, show_default=True,
              help="Orders come from the WooCommerce REST simulator, and the bridge writes "
                   "each one's invoice (or why it has none) back to it.")
def demo(directory: str | None, upstream: str, write_back: bool) -> None:
    """Start an invoicing service's simulator and the bridge, deliver sample orders as
    WooCommerce would, and print the resulting sync table and invoices (and, with
    write-back, the notes and meta each order shows in the shop)."""
    from sandbox.demo import run_demo

    sys.exit(run_demo(directory, upstream, write_back=write_back))


@click.group()
def sandbox() -> None:
    """Simulators of the upstream services, for trying things out and for tests."""


for _upstream in SANDBOXES.values():
    sandbox.add_command(_upstream.command, _upstream.kind)


@sandbox.command("woocommerce", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def sandbox_woocommerce(args: tuple[str, ...]) -> None:
    """Run the WooCommerce REST API simulator (orders, keys, pagination); --help for options."""
    from sandbox.woocommerce.rest_simulator.server import main

    main(list(args))
