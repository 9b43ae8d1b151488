"""The small, typed exception hierarchy of invoice-bridge: every error the bridge raises on
purpose is a ``BridgeError``, and lives here.

Every exception's default message is its docstring, so ``raise ConfigError()`` still says
something useful.

An operation that will not do what it was asked -- an unknown shop, an order being sent right
now, input that is not valid -- raises the one refusal error, ``Refused``, with a stable
``code``, a message for people and a ``kind`` (``RefusalKind``). The service layer and the
admin API raise it; the edges translate the kind once each: the web edge into an HTTP status
(``bridge.web.errors``), the command line into an exit code (``bridge.cli``).

Upstream failures are classified at the boundary (transport failures in
``bridge.upstreams.http``, answers in ``bridge.upstreams.failures``) into families the
dispatcher acts on: *transient* ones are retried, *permanent* ones stop, and any of them may
be *ambiguous* -- the upstream may already have acted on the request (a read timeout, a
dropped connection, an answer that is not the upstream's own error body).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class BridgeError(Exception):
    """invoice-bridge failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class ConfigError(BridgeError):
    """The configuration is invalid."""


class RefusalKind(StrEnum):
    """Why an operation was refused, in words every edge can translate."""

    #: the request itself is wrong: a missing or malformed field (HTTP 400; exit code 2)
    INVALID = "invalid"
    #: no valid credentials (HTTP 401)
    UNAUTHORIZED = "unauthorized"
    #: what the request names does not exist (HTTP 404)
    NOT_FOUND = "not_found"
    #: the thing is not in a state that allows it (HTTP 409)
    CONFLICT = "conflict"
    #: well-formed, but the data it needs cannot be used (HTTP 422)
    UNPROCESSABLE = "unprocessable"
    #: a dependency (database, upstream, shop) cannot be reached (HTTP 503; exit code 3)
    UNAVAILABLE = "unavailable"


class Refused(BridgeError):
    """The operation was refused; nothing was changed.

    ``code`` is stable and machine-readable (``not_found``, ``already_invoiced``, ...),
    ``message`` is for people and names the field for input errors, ``details`` are further
    machine-readable facts (``fields`` of an unmappable order) that every edge shows as
    they are. ``challenge`` says how to authenticate, for ``UNAUTHORIZED`` refusals (the web
    edge sends it as ``WWW-Authenticate``).
    """

    def __init__(self, code: str, message: str, kind: RefusalKind = RefusalKind.CONFLICT, *,
                 challenge: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.kind = code, message, RefusalKind(kind)
        self.challenge = challenge
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        """``{"code", "message", **details}``: the body of the one JSON error shape."""
        return {"code": self.code, "message": self.message, **self.details}


def invalid(field: str, reason: str, code: str = "bad_request") -> Refused:
    """A refusal of bad input, naming the field: ``invalid("limit", "must be ...")``."""
    return Refused(code, f"{field}: {reason}", RefusalKind.INVALID)


class InvariantBroken(BridgeError):
    """A rule the code itself must keep did not hold: a bug, never bad input. Raised, not
    asserted, so ``python -O`` cannot switch the check off."""


class MappingError(BridgeError):
    """The order cannot be turned into an invoice.

    ``errors`` maps a field path (``billing.email``, ``line_items[2].total``) to the list of
    reasons, so the rejection can name each field.
    """

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        self.errors = {key: list(value) for key, value in errors.items()}
        super().__init__(format_field_errors(self.errors))


#: ``format_field_errors`` lists at most this many fields (then "and K more fields") ...
MAX_LISTED_FIELDS = 20
#: ... shortens each field path and each reason to this many characters ...
MAX_FIELD_MESSAGE = 200
#: ... and never returns more than this: the text lands in a row's ``last_error``, the
#: delivery's reason, an event and a log line, and one order with 20,000 bad lines must not
#: write megabytes to each.
MAX_ERRORS_TEXT = 2000


def format_field_errors(errors: Mapping[str, list[str]]) -> str:
    """``{"billing.email": ["required"]}`` -> ``"billing.email: required"`` (sorted, joined),
    bounded: see MAX_LISTED_FIELDS, MAX_FIELD_MESSAGE and MAX_ERRORS_TEXT."""
    parts: list[str] = []
    used = 0
    ordered = sorted(errors.items())
    for field, reasons in ordered:
        shown = ", ".join(clip(reason, MAX_FIELD_MESSAGE) for reason in reasons[:3])
        if len(reasons) > 3:
            shown += f" (and {len(reasons) - 3} more)"
        part = f"{clip(field, MAX_FIELD_MESSAGE)}: {shown}"
        # room for "; " and the "; and N more fields" tail
        if parts and (len(parts) == MAX_LISTED_FIELDS
                      or used + len(part) + 2 > MAX_ERRORS_TEXT - 40):
            break
        parts.append(part)
        used += len(part) + 2
    text = "; ".join(parts)
    if len(parts) < len(ordered):
        text += f"; and {len(ordered) - len(parts)} more fields"
    return clip(text, MAX_ERRORS_TEXT)


#: what PostgreSQL's text cannot hold (NUL) and what is no character at all (lone surrogates)
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clip(text: str, limit: int) -> str:
    """``text`` made safe to store and log, at most ``limit`` characters: NUL and lone
    surrogates are written as escapes (``\\x00``, ``\\ud800``), and a longer text is cut,
    ending in "…"."""
    text = _UNSTORABLE.sub(lambda match: ascii(match.group())[1:-1], text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --- the shop's WooCommerce REST API (bridge.woocommerce.rest) -------------------------


class WooRestError(BridgeError):
    """The WooCommerce REST API did not give us what we asked for."""

    #: trying again later may help (server errors, timeouts, lost connections).
    retryable: bool = False

    def __init__(self, message: str | None = None, *, status: int | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        #: the HTTP status, None when no answer arrived.
        self.status = status
        #: WooCommerce's / WordPress's error ``code`` (``woocommerce_rest_cannot_view``...).
        self.code = code


class WooRestAuthError(WooRestError):
    """WooCommerce refused the REST key (401/403): the key, its permissions or the way it is
    sent must change; retrying will not help."""


class WooRestNotFound(WooRestError):
    """WooCommerce answered 404: no such order, or no REST route at that URL."""


class WooRestTransientError(WooRestError):
    """The shop failed in a way that may pass: a 5xx, a timeout, a lost connection, a 429."""

    retryable = True


# --- upstream failures -------------------------------------------------------------------


class UpstreamError(BridgeError):
    """The invoicing service did not accept the request."""

    #: retry this request later (with the same idempotency key).
    retryable: bool = False

    def __init__(
        self,
        message: str | None = None,
        *,
        http_status: int | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        #: True when the upstream may already have acted on the request.
        self.ambiguous = ambiguous


class TransientUpstreamError(UpstreamError):
    """The invoicing service failed in a way that may pass; try again later."""

    retryable = True


class UpstreamTimeout(TransientUpstreamError):
    """The invoicing service did not answer in time."""


class UpstreamConnectionError(TransientUpstreamError):
    """The connection to the invoicing service failed."""


class UpstreamUnavailable(TransientUpstreamError):
    """The invoicing service answered with a server error (5xx)."""


class UpstreamRateLimited(TransientUpstreamError):
    """The invoicing service asked us to slow down (429)."""

    def __init__(self, message: str | None = None, *, retry_after: float | None = None,
                 http_status: int | None = 429, ambiguous: bool = False) -> None:
        super().__init__(message, http_status=http_status, ambiguous=ambiguous)
        #: seconds the upstream asked us to wait, if it said.
        self.retry_after = retry_after


class UpstreamBadResponse(TransientUpstreamError):
    """The invoicing service answered with something we cannot read."""


class PermanentUpstreamError(UpstreamError):
    """The invoicing service refused the request; sending it again will not help."""


class UpstreamRejected(PermanentUpstreamError):
    """The invoicing service rejected the invoice (validation, 4xx)."""


class UpstreamAccountError(PermanentUpstreamError):
    """The invoicing service refused the shop's account or endpoint; every order of the shop
    would fail the same way, so the shop's dispatch pauses instead of burning attempts."""


class UpstreamAuthError(UpstreamAccountError):
    """The invoicing service refused our credentials (401/403)."""


class UpstreamEndpointError(UpstreamAccountError):
    """The invoicing service does not know the endpoint (404): the base URL is wrong."""
