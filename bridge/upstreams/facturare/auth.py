"""HTTP Basic authentication with a facturare.md API key ([DOC]: the key is the user name and
the password is empty, ``curl -u {API_KEY}:``). A key cannot be renewed: a 401 means it was
revoked or mistyped, and the shop pauses until a person fixes it."""

from __future__ import annotations

import base64
from collections.abc import Mapping

from bridge.upstreams.facturare.assumptions import BASIC_AUTH_PASSWORD


class ApiKeyAuth:
    """The ``bridge.upstreams.http.Auth`` for one API key."""

    def __init__(self, api_key: str) -> None:
        credentials = f"{api_key}:{BASIC_AUTH_PASSWORD}".encode()
        # built once; never logged (the header is not part of anything we log)
        self._header = {"Authorization": "Basic " + base64.b64encode(credentials).decode("ascii")}

    def headers(self) -> Mapping[str, str]:
        return self._header

    def renew(self, rejected: Mapping[str, str]) -> bool:
        return False  # nothing to renew: the key is what it is

    def __repr__(self) -> str:
        return "ApiKeyAuth(***)"
