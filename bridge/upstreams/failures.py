"""Which failure an upstream's HTTP answer is, and whether it proves nothing was created.

The rule every adapter follows (docs/guarantees.md, "Sending"): only an answer that carries
the upstream's own documented error body proves the upstream refused the request and created
nothing. Anything else -- a gateway's or load balancer's HTML page, an empty or unreadable
body, JSON of another shape -- may come from something in front of the upstream, after the
upstream acted (a 502/504 returned once the backend had created the invoice). Such an answer
is an unknown outcome (``ambiguous=True``) whatever its status; it keeps its family, so an
HTML 401 still pauses the shop and an HTML 429 still throttles.

An adapter reads the answers it understands (success, a documented "already exists") and
hands every other one to ``failure_from_answer`` with ``own_error`` saying whether the body
was the upstream's error envelope. It does not decide the ambiguity itself.
"""

from __future__ import annotations

from bridge.errors import (
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamEndpointError,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)

#: Statuses a client may retry although they are 4xx (request timeout, too early).
RETRYABLE_4XX = (408, 425)


def failure_from_answer(status: int, detail: str, *, own_error: bool, upstream: str,
                        retry_after: float | None = None) -> UpstreamError:
    """The ``UpstreamError`` for an HTTP answer that is not a success the adapter read.

    ``own_error``: the body is the upstream's own documented error answer (proof that it
    refused the request). ``upstream`` names the service in messages; ``detail`` is the
    short text the answer carried. The caller raises the result.
    """
    ambiguous = not own_error
    message = f"HTTP {status}: {detail}"
    if ambiguous:
        message = (f"HTTP {status}, not {upstream}'s own error answer (the invoice may exist): "
                   f"{detail}")
    if 200 <= status < 300:
        if own_error:  # a success status carrying the error envelope: it says it failed
            return UpstreamRejected(message, http_status=status)
        return UpstreamBadResponse(message, http_status=status, ambiguous=True)
    if status in (401, 403):
        return UpstreamAuthError(message, http_status=status, ambiguous=ambiguous)
    if status == 404:
        return UpstreamEndpointError(f"{message} (is base_url right?)", http_status=status,
                                     ambiguous=ambiguous)
    if status == 429:
        return UpstreamRateLimited(message, retry_after=retry_after, ambiguous=ambiguous)
    if status >= 500 or status in RETRYABLE_4XX:
        return UpstreamUnavailable(message, http_status=status, ambiguous=ambiguous)
    return UpstreamRejected(message, http_status=status, ambiguous=ambiguous)
