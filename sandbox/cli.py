"""``invoice-bridge demo`` and ``invoice-bridge sandbox ...``.

These commands live with the simulators they start. ``invoice-bridge`` finds them through the
``invoice_bridge.commands`` entry point (pyproject.toml), so the product never imports the
sandbox.
"""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("--dir", "directory", default=None, metavar="PATH",
              help="Keep the demo's database and config here (default: a temporary folder).")
def demo(directory: str | None) -> None:
    """Start the e-Cont.md simulator and the bridge, deliver sample orders as WooCommerce
    would, and print the resulting sync table and invoices."""
    from sandbox.demo import run_demo

    sys.exit(run_demo(directory))


@click.group()
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
    from sandbox.econt import serve_forever

    pairs = []
    for account in accounts:
        client, _, token = account.partition(":")
        pairs.append((client, token))
    serve_forever(port=port, host=host, repeated_order=repeated_order, accounts=pairs,
                  latency=latency, check_totals=not no_check_totals)


@sandbox.command("woocommerce", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def sandbox_woocommerce(args: tuple[str, ...]) -> None:
    """Run the WooCommerce REST API simulator (orders, keys, pagination); --help for options."""
    from sandbox.woocommerce.rest_simulator.server import main

    main(list(args))
