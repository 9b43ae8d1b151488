"""``invoice-bridge sandbox facturare``: serve the facturare.md simulator in the foreground."""

from __future__ import annotations

import click


@click.command("facturare")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8766, show_default=True)
@click.option("--api-key", "api_keys", multiple=True, metavar="KEY",
              help="Another accepted API key (the demo key is always accepted).")
@click.option("--latency", type=float, default=0.0, help="Seconds added to every answer.")
def facturare_command(host: str, port: int, api_keys: tuple[str, ...], latency: float) -> None:
    """Run the facturare.md simulator (customers, invoices, payments; the documented Basic
    auth, filters and error object; fault switches under /_sandbox/)."""
    from sandbox.facturare.server import serve_forever

    try:
        serve_forever(port=port, host=host, api_keys=api_keys, latency=latency)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
