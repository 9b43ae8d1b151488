"""facturare.md's answers: its error object ``{type, message, param}`` becomes a readable
reason and proves nothing was created; anything else is an unknown outcome -- unless the
request could not create anything. And the API key goes out as HTTP Basic."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from bridge.errors import (
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamEndpointError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bridge.upstreams.facturare.api import failure, read_json, reason
from bridge.upstreams.facturare.assumptions import is_error_object
from bridge.upstreams.facturare.auth import ApiKeyAuth


def answer(status: int, body: object = None, *, text: str | None = None,
           headers: dict[str, str] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = (text if text is not None else json.dumps(body)).encode()
    response.headers.update(headers or {})
    return response


def error_object(message: str = "must be positive", param: str | None = "items[0].quantity",
                 kind: str = "invalid_request") -> dict[str, object]:
    return {"type": kind, "message": message, "param": param}


def fail(response: requests.Response, *, creates: bool = True) -> object:
    return failure(response, read_json(response), creates=creates)


def test_the_error_object_reads_param_colon_message() -> None:
    response = answer(400, error_object())
    assert reason(read_json(response), response) == "items[0].quantity: must be positive"
    no_param = answer(500, error_object("There was a problem on our end", None, "api"))
    assert reason(read_json(no_param), no_param) == "There was a problem on our end"


def test_a_long_or_multi_line_message_is_bounded_on_one_line() -> None:
    response = answer(400, error_object("bad\n value " * 200, "name"))
    text = reason(read_json(response), response)
    assert len(text) == 500 and "\n" not in text and text.startswith("name: bad value")


@pytest.mark.parametrize("body", [
    {"type": "invalid_request", "message": "x"},
    {"type": "api", "message": "x", "param": None},
    {"type": "invalid_request", "message": "", "param": "name", "extra": 1},
])
def test_what_counts_as_the_error_object(body: object) -> None:
    assert is_error_object(body)


@pytest.mark.parametrize("body", [
    None, [], "error", {"message": "x"}, {"type": "other", "message": "x"},
    {"type": "api", "message": 3}, {"type": "api", "message": "x", "param": 7},
    {"error": {"type": "api", "message": "x"}},
])
def test_what_does_not(body: object) -> None:
    assert not is_error_object(body)


@pytest.mark.parametrize(("status", "family"), [
    (400, UpstreamRejected), (401, UpstreamAuthError), (403, UpstreamAuthError),
    (404, UpstreamEndpointError), (429, UpstreamRateLimited), (500, UpstreamUnavailable),
    (503, UpstreamUnavailable),
])
def test_the_services_own_refusal_is_certain(status: int, family: type) -> None:
    error = fail(answer(status, error_object()))
    assert isinstance(error, family) and not error.ambiguous  # type: ignore[attr-defined]
    assert "items[0].quantity: must be positive" in str(error)


def test_a_429_says_when_to_come_back() -> None:
    error = fail(answer(429, error_object("You're moving too fast! Slow down!", None),
                        headers={"Retry-After": "12"}))
    assert isinstance(error, UpstreamRateLimited) and error.retry_after == 12


@pytest.mark.parametrize("response", [
    answer(502, text="<html><body><h1>502 Bad Gateway</h1></body></html>"),
    answer(504, text=""),
    answer(201, text="<html>oops</html>"),
    answer(500, {"error": "something else"}),
], ids=["gateway-502", "empty-504", "html-201", "foreign-json-500"])
def test_any_other_answer_to_a_create_is_an_unknown_outcome(
        response: requests.Response) -> None:
    error = fail(response)
    assert error.ambiguous and error.retryable  # type: ignore[attr-defined]
    assert "not facturare.md's own error answer" in str(error)


def test_no_answer_to_a_request_that_creates_nothing_is_ambiguous() -> None:
    error = fail(answer(502, text="<html>Bad Gateway</html>"), creates=False)
    assert isinstance(error, UpstreamUnavailable) and not error.ambiguous
    unreadable = fail(answer(200, text="<html>"), creates=False)
    assert isinstance(unreadable, UpstreamBadResponse) and not unreadable.ambiguous


def test_a_success_status_with_the_error_object_is_a_refusal() -> None:
    error = fail(answer(200, error_object("invoice is closed", "invoice")))
    assert isinstance(error, UpstreamRejected) and not error.ambiguous


def test_amounts_in_answers_are_read_as_decimal_never_float() -> None:
    body = read_json(answer(201, text='{"id": 7, "total": 8377.20}'))
    assert str(body["total"]) == "8377.20" and not isinstance(body["total"], float)


def test_the_key_is_the_basic_user_name_with_an_empty_password() -> None:
    auth = ApiKeyAuth("sk_live_abc")
    scheme, encoded = auth.headers()["Authorization"].split(" ")
    assert scheme == "Basic" and base64.b64decode(encoded) == b"sk_live_abc:"
    assert auth.renew(auth.headers()) is False  # a key cannot be renewed: 401 pauses
    assert "sk_live_abc" not in repr(auth)
