"""``invoice-bridge sandbox econt``: serve the e-Cont.md simulator in the foreground."""

from __future__ import annotations

import click


@click.command("econt")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--repeated-order", type=click.Choice(["reject", "return_existing", "create_new"]),
              default="reject", show_default=True,
              help="What a repeated order.id does (undocumented by e-Cont.md).")
@click.option("--account", "accounts", multiple=True, metavar="CLIENT:TOKEN",
              help="Extra accepted credentials (32 hex each); a demo pair is always accepted.")
@click.option("--latency", type=float, default=0.0, help="Seconds added to every answer.")
@click.option("--no-check-totals", is_flag=True, help="Do not check that items add up.")
def econt_command(host: str, port: int, repeated_order: str, accounts: tuple[str, ...],
                  latency: float, no_check_totals: bool) -> None:
    """Run the e-Cont.md simulator (put/invoice, strict validation, fault switches)."""
    from sandbox.econt import serve_forever

    pairs = []
    for account in accounts:
        client, _, token = account.partition(":")
        pairs.append((client, token))
    serve_forever(port=port, host=host, repeated_order=repeated_order, accounts=pairs,
                  latency=latency, check_totals=not no_check_totals)
