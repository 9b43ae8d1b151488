"""``invoice-bridge sandbox fakturoid``: serve the Fakturoid simulator in the foreground."""

from __future__ import annotations

import click

from bridge.upstreams.fakturoid import assumptions as fak


@click.command("fakturoid")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8766, show_default=True)
@click.option("--rate-quota", type=click.IntRange(min=1), default=fak.DOCUMENTED_QUOTA,
              show_default=True, help="Requests allowed per window (X-RateLimit-Policy q).")
@click.option("--rate-window", type=click.IntRange(min=1), default=fak.DOCUMENTED_WINDOW,
              show_default=True, help="Window in seconds (X-RateLimit-Policy w).")
@click.option("--token-lifetime", type=click.IntRange(min=1), default=fak.TOKEN_LIFETIME,
              show_default=True, help="Seconds an access token lasts.")
@click.option("--cancel-allowed", type=click.Choice(fak.CANCEL_ALLOWED_FOR), default="all",
              show_default=True, help="Which accounts may fire cancel (the docs disagree).")
@click.option("--latency", type=float, default=0.0, help="Seconds added to every answer.")
def fakturoid_command(host: str, port: int, rate_quota: int, rate_window: int,
                      token_lifetime: int, cancel_allowed: str, latency: float) -> None:
    """Run the Fakturoid API v3 simulator (OAuth, subjects, invoices, payments, events,
    strict validation, rate-limit headers, fault switches)."""
    from sandbox.fakturoid.server import serve_forever

    serve_forever(port=port, host=host, rate_quota=rate_quota, rate_window=rate_window,
                  token_lifetime=token_lifetime, cancel_allowed=cancel_allowed,
                  latency=latency)
