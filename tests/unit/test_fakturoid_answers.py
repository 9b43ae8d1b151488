"""Fakturoid's answers as the bridge's errors: only its own error body proves a refusal, the
reason is readable and bounded, 402/401/403 are account errors, 429 waits for the reset the
rate-limit header gives, and nothing a token request gets back is ambiguous. The answers are
``requests.Response`` objects filled in by hand (the edge of our code);
tests/integration/test_fakturoid_*.py has the same over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from bridge.errors import (
    UpstreamAccountError,
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamEndpointError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bridge.upstreams.fakturoid import assumptions as fak
from bridge.upstreams.fakturoid.answers import describe, failure
from bridge.upstreams.fakturoid.auth import read_token

GATEWAY = ("<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 "
           "Gateway Time-out</h1></center><hr><center>nginx</center></body></html>\n")


def answer(status: int, body: Any = None, *, text: str | None = None,
           headers: dict[str, str] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    if text is not None:
        response._content = text.encode()
        response.headers["Content-Type"] = "text/html"
    else:
        response._content = json.dumps(body).encode() if body is not None else b""
        response.headers["Content-Type"] = "application/json; charset=utf-8"
    response.headers.update(headers or {})
    response.encoding = "utf-8"
    return response


def test_a_422_names_every_field() -> None:
    body = {"errors": {"subject_id": ["can't be blank", "Contact does not exist."],
                       "number": ["The number does not match the number format"]}}
    error = failure(answer(422, body), what="creating the invoice")
    assert isinstance(error, UpstreamRejected) and not error.retryable
    assert not error.ambiguous and error.http_status == 422
    assert str(error) == ("HTTP 422: creating the invoice: number: The number does not match "
                          "the number format; subject_id: can't be blank, Contact does not "
                          "exist.")


def test_a_huge_error_body_gives_a_bounded_reason() -> None:
    body = {"errors": {f"lines.{n}.name": ["x" * 5000] * 10 for n in range(500)}}
    assert len(describe(body)) <= 2000


@pytest.mark.parametrize(("body", "own"), [
    ({"errors": {"name": ["can't be blank"]}}, True),
    ({"error": "invalid_request", "error_description": "Required header"}, True),
    ({"error": "resource_not_found"}, True),  # the 404 seen in recorded traffic
    ({"errors": {}}, False), ({"errors": {"name": "can't be blank"}}, False),
    ({"error": 3}, False), ({"message": "Internal Server Error"}, False), ([], False),
    (None, False), ("text", False)])
def test_only_the_documented_error_bodies_are_fakturoids(body: Any, own: bool) -> None:
    assert fak.is_error_body(body) is own


def test_a_gateway_page_proves_nothing_whatever_its_status() -> None:
    for status in (200, 201, 401, 422, 502, 504):
        error = failure(answer(status, text=GATEWAY), what="creating the invoice")
        assert error.ambiguous, status
        assert "504 Gateway Time-out" in str(error)
    assert isinstance(failure(answer(201, text=GATEWAY), what="x"), UpstreamBadResponse)


def test_the_services_own_5xx_and_read_only_mode_are_transient_and_certain() -> None:
    for status in (500, 503):
        error = failure(answer(status, {"error": "service_unavailable",
                                        "error_description": "read-only mode"}), what="x")
        assert isinstance(error, UpstreamUnavailable) and error.retryable
        assert not error.ambiguous


def test_402_blocked_account_pauses_the_shop() -> None:
    body = {"status": "Account blocked", "overdue_invoices": [{"invoice_url": "https://x"}]}
    error = failure(answer(402, body), what="creating the invoice")
    assert isinstance(error, UpstreamAccountError) and not error.ambiguous
    assert "blocked for an unpaid Fakturoid invoice" in str(error)
    assert failure(answer(402, text=GATEWAY), what="x").ambiguous


def test_403_no_bank_account_pauses_the_shop_with_the_reason() -> None:
    body = {"errors": {"bank_account": ["Please set up a bank account in your Fakturoid "
                                        "account to create an invoice."]}}
    error = failure(answer(403, body), what="creating the invoice")
    assert isinstance(error, UpstreamAuthError) and not error.ambiguous
    assert "bank_account: Please set up a bank account" in str(error)


def test_429_waits_for_retry_after_or_the_reset_of_the_rate_limit_header() -> None:
    limited = answer(429, {"error": "too_many_requests"},
                     headers={"X-RateLimit": "default;r=0;t=17",
                              "X-RateLimit-Policy": "default;q=400;w=60"})
    error = failure(limited, what="x")
    assert isinstance(error, UpstreamRateLimited) and error.retry_after == 17
    both = answer(429, {"error": "too_many_requests"},
                  headers={"X-RateLimit": "default;r=0;t=17", "Retry-After": "3"})
    assert failure(both, what="x").retry_after == 3  # type: ignore[attr-defined]
    assert failure(answer(429, {"error": "x"}), what="x").retry_after is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(("header", "reset", "remaining"), [
    ("default;r=398;t=55", 55, 398), ("default; r=0; t=3", 3, 0), ("default;t=9", 9, None),
    ("default", None, None), ("", None, None), ("default;r=1;t=" + "9" * 300, None, None),
    ("default;r=-1;t=x", None, None)])
def test_the_rate_limit_header_is_read_strictly(header: str, reset: float | None,
                                                remaining: int | None) -> None:
    assert fak.rate_limit_reset(header) == reset
    assert fak.rate_limit_remaining(header) == remaining


def test_404_is_the_account_for_collections_and_the_invoice_for_one() -> None:
    missing = answer(404, {"error": "resource_not_found"})
    assert isinstance(failure(missing, what="listing invoices"), UpstreamEndpointError)
    one = failure(missing, what="paying invoice 7", one_invoice="7")
    assert isinstance(one, UpstreamRejected) and not isinstance(one, UpstreamAccountError)
    assert "Fakturoid has no invoice 7" in str(one)


def test_a_token_request_is_never_ambiguous_and_any_refusal_pauses_the_shop() -> None:
    refused = answer(401, {"error": "invalid_client", "error_description": "Client "
                                                                          "authentication failed"})
    with pytest.raises(UpstreamAuthError) as raised:
        read_token(refused, 0.0)
    assert not raised.value.ambiguous and "check client_id, client_secret" in str(raised.value)
    for response in (answer(400, {"error": "invalid_request"}), answer(502, text=GATEWAY),
                     answer(200, {"token_type": "Bearer"}), answer(200, text=GATEWAY)):
        with pytest.raises(Exception) as failed:
            read_token(response, 0.0)
        assert not getattr(failed.value, "ambiguous", True), response.status_code


def test_a_token_answer() -> None:
    token = read_token(answer(200, {"access_token": "abc", "token_type": "Bearer",
                                    "expires_in": 7200}), 100.0)
    assert (token.value, token.expires_at, token.header) == ("abc", 7300.0, "Bearer abc")
    for bad in ({"access_token": "a b", "expires_in": 1}, {"access_token": "a",
                                                            "expires_in": "7200"},
                {"access_token": "", "expires_in": 1}, {"access_token": "a", "expires_in": 0}):
        with pytest.raises(UpstreamBadResponse):
            read_token(answer(200, bad), 0.0)
