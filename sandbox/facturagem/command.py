"""``invoice-bridge sandbox facturagem``: serve the FACTURAgem simulator in the foreground."""

from __future__ import annotations

import click

from sandbox.facturagem.state import SUMMARY_MODES


@click.command("facturagem")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8766, show_default=True)
@click.option("--latency", type=float, default=0.0, help="Seconds added to every answer.")
@click.option("--page-size", type=click.IntRange(min=1), default=25, show_default=True,
              help="Items per page of a collection (undocumented by FACTURAgem).")
@click.option("--summaries", type=click.Choice(SUMMARY_MODES), default="full",
              show_default=True,
              help="What list entries hold: 'brief' leaves out the fields lookups use, so "
                   "the adapter reads each resource in full.")
def facturagem_command(host: str, port: int, latency: float, page_size: int,
                       summaries: str) -> None:
    """Run the FACTURAgem simulator (session, accounts, clients, invoices, payments, strict
    parameters, fault switches)."""
    from sandbox.facturagem.server import serve_forever

    serve_forever(port=port, host=host, latency=latency, page_size=page_size,
                  summaries=summaries)
