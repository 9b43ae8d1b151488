"""Bearer-token check for the admin API: constant-time, and silent about why it failed."""

from __future__ import annotations

import hmac
import logging

from flask import request

from bridge.errors import RefusalKind, Refused
from bridge.masking import bound
from bridge.web.runtime import current_runtime

log = logging.getLogger(__name__)


def require_admin() -> str:
    """Abort with 401 unless ``Authorization: Bearer <token>`` matches a configured token.
    Returns a short, non-secret name for the caller (for audit events)."""
    tokens = current_runtime().settings.admin_tokens
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    presented = presented.strip()
    matched = None
    if scheme.lower() == "bearer" and presented:
        for index, token in enumerate(tokens):
            # Compare against every token, so timing does not reveal which one came close.
            if hmac.compare_digest(token.encode(), presented.encode()):
                matched = index
    if matched is None:
        log.warning("admin request refused", extra={"path": bound(request.path, 200),
                                                    "has_credentials": bool(presented)})
        raise Refused("unauthorized", "a valid admin bearer token is required",
                      RefusalKind.UNAUTHORIZED, challenge='Bearer realm="invoice-bridge admin"')
    return f"admin-token-{matched}"
