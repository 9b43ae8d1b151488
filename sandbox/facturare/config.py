"""The ``[shops.upstream]`` section that points a shop at a facturare.md simulator."""

from __future__ import annotations

from typing import Any

from sandbox.facturare.state import DEMO_API_KEY


def facturare_upstream(url: str, *, api_key: str | None = DEMO_API_KEY,
                       **options: Any) -> dict[str, Any]:
    """The section for a simulator at ``url``, with the demo key unless told otherwise;
    ``options`` are further keys (``rate_limit``, ``repeated_order``, ``api_key_env`` ...).
    ``api_key=None`` leaves the key out, for a caller that gives ``api_key_env``."""
    section: dict[str, Any] = {"kind": "facturare", "base_url": url}
    if api_key is not None:
        section["api_key"] = api_key
    return {**section, **options}
