"""How an upstream's HTTP answer is classified: only the upstream's own error envelope proves
that nothing was created; every other answer is an unknown outcome, whatever its status.

The answers are ``requests.Response`` objects filled in by hand (the edge of our code), so
bodies the simulator never sends -- an empty 503, JSON that is not the envelope -- are
covered too. tests/integration/test_econt_dispatch.py has the same over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from bridge.errors import (
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamEndpointError,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bridge.upstreams.econt.adapter import interpret_response
from bridge.upstreams.econt.assumptions import DUPLICATE_ORDER_CODE, is_error_envelope
from bridge.upstreams.failures import failure_from_answer

GATEWAY_502 = ("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad "
               "Gateway</h1></center><hr><center>nginx</center></body></html>\n")


def answer(status: int, body: Any = None, *, text: str | None = None,
           headers: dict[str, str] | None = None) -> requests.Response:
    """An HTTP answer as ``requests`` hands it over: JSON ``body``, or raw ``text``."""
    response = requests.Response()
    response.status_code = status
    if text is not None:
        response._content = text.encode()
        response.headers["Content-Type"] = "text/html"
    else:
        response._content = json.dumps(body).encode() if body is not None else b""
        response.headers["Content-Type"] = "application/json; charset=UTF-8"
    response.headers.update(headers or {})
    response.encoding = "utf-8"
    return response


def envelope(status: int, message: str = "refused", code: int = 0) -> dict[str, Any]:
    """e-Cont.md's documented error answer (docs/econt.md)."""
    return {"status": "FAIL", "data": {"name": "Some Error", "message": message,
                                       "code": code, "status": status}}


def failure(response: requests.Response) -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        interpret_response(response)
    return caught.value


@pytest.mark.parametrize(("response", "family", "ambiguous"), [
    pytest.param(answer(500, envelope(500)), UpstreamUnavailable, False, id="envelope-500"),
    pytest.param(answer(503, envelope(503)), UpstreamUnavailable, False, id="envelope-503"),
    pytest.param(answer(502, text=GATEWAY_502), UpstreamUnavailable, True, id="html-502"),
    pytest.param(answer(504, text=GATEWAY_502.replace("502", "504")), UpstreamUnavailable,
                 True, id="html-504"),
    pytest.param(answer(503), UpstreamUnavailable, True, id="empty-503"),
    pytest.param(answer(500, {"error": "internal"}), UpstreamUnavailable, True,
                 id="non-envelope-json-500"),
    pytest.param(answer(500, ["FAIL"]), UpstreamUnavailable, True, id="json-array-500"),
    pytest.param(answer(500, text='{"status": "FAIL", "data": '), UpstreamUnavailable, True,
                 id="truncated-json-500"),
    pytest.param(answer(401, envelope(401, "Incorrect or missing API key")),
                 UpstreamAuthError, False, id="envelope-401"),
    pytest.param(answer(401, text="<html>401 Authorization Required</html>"),
                 UpstreamAuthError, True, id="html-401"),
    pytest.param(answer(403, text="<html>403 Forbidden</html>"), UpstreamAuthError, True,
                 id="html-403"),
    pytest.param(answer(404, envelope(404, "Page not found.")), UpstreamEndpointError, False,
                 id="envelope-404"),
    pytest.param(answer(404, text="<html>404 Not Found</html>"), UpstreamEndpointError, True,
                 id="html-404"),
    pytest.param(answer(400, envelope(400, "order.billing.email: required")),
                 UpstreamRejected, False, id="envelope-400"),
    pytest.param(answer(400, text="<html>400 Bad Request</html>"), UpstreamRejected, True,
                 id="html-400"),
    pytest.param(answer(422, envelope(422)), UpstreamRejected, False, id="envelope-422"),
    pytest.param(answer(408, envelope(408)), UpstreamUnavailable, False, id="envelope-408"),
    pytest.param(answer(409, {"status": "FAIL", "data": {"code": DUPLICATE_ORDER_CODE}}),
                 UpstreamRejected, True, id="duplicate-code-without-the-envelope"),
    pytest.param(answer(200, envelope(200)), UpstreamRejected, False, id="200-fail-envelope"),
    pytest.param(answer(200, {"status": "MAYBE", "data": {}}), UpstreamBadResponse, True,
                 id="200-other-json"),
    pytest.param(answer(200, text=GATEWAY_502), UpstreamBadResponse, True, id="200-html"),
    pytest.param(answer(200), UpstreamBadResponse, True, id="200-empty"),
    pytest.param(answer(302, text="", headers={"Location": "/login"}), UpstreamRejected, True,
                 id="redirect"),
])
def test_each_kind_of_answer_is_classified(response: requests.Response,
                                           family: type[UpstreamError],
                                           ambiguous: bool) -> None:
    error = failure(response)
    assert type(error) is family
    assert error.ambiguous is ambiguous
    assert error.http_status == response.status_code
    if ambiguous:
        assert "not e-Cont.md's own error answer (the invoice may exist)" in str(error)


def test_a_429_page_still_throttles_with_retry_after_but_is_ambiguous() -> None:
    page = failure(answer(429, text="<html>Too Many Requests</html>",
                          headers={"Retry-After": "30"}))
    own = failure(answer(429, envelope(429), headers={"Retry-After": "7"}))
    assert isinstance(page, UpstreamRateLimited) and page.ambiguous and page.retry_after == 30
    assert isinstance(own, UpstreamRateLimited) and not own.ambiguous and own.retry_after == 7


def test_the_message_shows_the_envelope_message_or_a_bounded_page() -> None:
    assert str(failure(answer(400, envelope(400, "order.amount: required")))) == (
        "HTTP 400: order.amount: required")
    huge = failure(answer(502, text="<html>\n" + "x" * 100_000 + "</html>"))
    assert len(str(huge)) < 400 and "\n" not in str(huge)
    assert str(failure(answer(503))).endswith("(empty body)")


def test_success_and_the_documented_duplicate_are_read_as_invoices() -> None:
    created = interpret_response(answer(200, {"status": "OK", "data": {
        "code": 0, "invoice": {"hash": "ab" * 16, "number": "EC-000001"}}}))
    duplicate = interpret_response(answer(409, envelope(409, code=DUPLICATE_ORDER_CODE)))
    assert (created.invoice_id, created.invoice_number, created.existed) == (
        "ab" * 16, "EC-000001", False)
    assert duplicate.existed and duplicate.invoice_id is None


@pytest.mark.parametrize("body", [
    None, [], "FAIL", {"status": "FAIL"}, {"status": "FAIL", "data": []},
    {"status": "OK", "data": envelope(500)["data"]},
    {"status": "FAIL", "data": {"name": "Error", "message": "m", "code": 0}},
    {"status": "FAIL", "data": {"name": "Error", "message": "m", "code": "0", "status": 500}},
    {"status": "FAIL", "data": {"name": "Error", "message": "m", "code": 0, "status": True}},
    {"status": "FAIL", "data": {"name": 5, "message": "m", "code": 0, "status": 500}},
])
def test_only_the_documented_envelope_counts_as_the_upstreams_own_error(body: Any) -> None:
    assert not is_error_envelope(body)
    assert is_error_envelope(envelope(500))
    assert is_error_envelope({"status": "FAIL", "data": {  # Yii: message may be an object
        "name": "Bad Request", "message": {"email": ["required"]}, "code": 0, "status": 400,
        "previous": {"name": "Invalid Route"}}})


@pytest.mark.parametrize("status", [200, 302, 400, 401, 403, 404, 408, 409, 422, 429, 500,
                                    502, 503, 504, 520])
def test_the_shared_rule_keeps_the_family_and_marks_only_the_ambiguity(status: int) -> None:
    """Every adapter gets the same rule: the family follows the status, the ambiguity
    follows only whether the answer was the upstream's own error body."""
    own = failure_from_answer(status, "x", own_error=True, upstream="Any")
    other = failure_from_answer(status, "x", own_error=False, upstream="Any")
    assert own.ambiguous is False and other.ambiguous is True
    same_family = type(own) is type(other) or (200 <= status < 300 and isinstance(
        other, UpstreamBadResponse))
    assert same_family and own.http_status == other.http_status == status
    assert "not Any's own error answer" in str(other)
