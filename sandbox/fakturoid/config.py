"""The ``[shops.upstream]`` section that points a shop at a Fakturoid simulator."""

from __future__ import annotations

from typing import Any

from sandbox.fakturoid.state import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_SLUG,
    DEMO_USER_AGENT,
)

#: rates for the currencies the sample orders use (the simulated account's is CZK)
SAMPLE_EXCHANGE_RATES = {"EUR": "24.35", "MDL": "1.31", "JPY": "0.1520", "RON": "4.89"}


def fakturoid_upstream(url: str, *, client_secret: str | None = DEMO_CLIENT_SECRET,
                       **options: Any) -> dict[str, Any]:
    """The section for a simulator at ``url`` with the demo credentials and account, unless
    ``options`` say otherwise; ``client_secret=None`` leaves the secret out (for a caller
    that gives ``client_secret_env``)."""
    section: dict[str, Any] = {
        "kind": "fakturoid", "base_url": url, "account_slug": DEMO_SLUG,
        "client_id": DEMO_CLIENT_ID, "user_agent": DEMO_USER_AGENT,
        "exchange_rates": dict(SAMPLE_EXCHANGE_RATES)}
    if client_secret is not None:
        section["client_secret"] = client_secret
    return {**section, **options}
