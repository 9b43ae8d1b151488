"""The ``[shops.upstream]`` section that points a shop at a FACTURAgem simulator."""

from __future__ import annotations

from typing import Any

from sandbox.facturagem.app import API_ROOT
from sandbox.facturagem.state import DEMO_LOGIN, DEMO_PASSWORD


def facturagem_upstream(url: str, *, login: str = DEMO_LOGIN,
                        password: str | None = DEMO_PASSWORD, **options: Any) -> dict[str, Any]:
    """The section for a simulator at ``url`` (its root, without /api/v1), with the demo
    user unless told otherwise; ``options`` are further keys (``line_prices``,
    ``password_env`` ...). ``password=None`` leaves the password out."""
    section: dict[str, Any] = {"kind": "facturagem", "base_url": url + API_ROOT,
                               "login": login}
    if password is not None:
        section["password"] = password
    return {**section, **options}
