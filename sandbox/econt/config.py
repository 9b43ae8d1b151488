"""The ``[shops.upstream]`` section that points a shop at an e-Cont.md simulator."""

from __future__ import annotations

from typing import Any

from sandbox.econt.state import DEMO_CLIENT_ID, DEMO_TOKEN


def econt_upstream(url: str, *, client_id: str = DEMO_CLIENT_ID, token: str | None = DEMO_TOKEN,
                   **options: Any) -> dict[str, Any]:
    """The section for a simulator at ``url``, with the demo account unless told otherwise;
    ``options`` are further keys of the section (``language``, ``rate_limit``,
    ``repeated_order``, ``token_env`` ...). ``token=None`` leaves the token out, for a caller
    that gives ``token_env``."""
    section: dict[str, Any] = {"kind": "econt", "base_url": url, "client_id": client_id}
    if token is not None:
        section["token"] = token
    return {**section, **options}
