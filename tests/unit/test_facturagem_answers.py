"""FACTURAgem's answers: its error body becomes a readable, bounded reason ("field: message;
..."), and only that body proves a request that changes something did nothing. Answers are
``requests.Response`` objects filled in by hand (the edge of our code);
tests/integration/test_facturagem_adapter.py has the same over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from bridge.errors import (
    MAX_ERRORS_TEXT,
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamEndpointError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bridge.upstreams.facturagem.answers import collection, error_reasons, failure, resource_id

GATEWAY = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def answer(status: int, body: Any = None, *, text: str | None = None,
           headers: dict[str, str] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = (text if text is not None else json.dumps(body) if body is not None
                         else "").encode()
    response.headers["Content-Type"] = "text/html" if text is not None else "application/json"
    response.headers.update(headers or {})
    response.encoding = "utf-8"
    return response


def test_validation_errors_become_field_reasons() -> None:
    body = {"id": None, "notes": "x", "errors": {"lines[0].price": ["is not a number"],
                                                 "client_id": ["can't be blank",
                                                               "is not a client"]}}
    assert error_reasons(body) == ("client_id: can't be blank, is not a client; "
                                   "lines[0].price: is not a number")
    error = failure(answer(422, body), changes=True)
    assert isinstance(error, UpstreamRejected) and not error.ambiguous
    assert not error.retryable and error.http_status == 422
    assert str(error) == ("HTTP 422: client_id: can't be blank, is not a client; "
                          "lines[0].price: is not a number")


@pytest.mark.parametrize(("errors", "reason"), [
    (["Amount is too big", "Date is missing"], "Amount is too big; Date is missing"),
    ([["amount", "is too big"], ["date", "is missing"]], "amount: is too big; date: is missing"),
    ("Invoice\n  is locked", "Invoice is locked"),
    ({"base": "the client has invoices"}, "base: the client has invoices"),
])
def test_other_shapes_of_errors_are_read_too(errors: Any, reason: str) -> None:
    assert error_reasons({"errors": errors}) == reason


def test_an_unexpected_parameter_names_it_and_the_allowed_ones() -> None:
    body = {"errors": {"invoice.discount": ["is not an allowed parameter"]},
            "allowed_params": ["api_key", "invoice.client_id", "invoice.notes"]}
    assert error_reasons(body) == ("invoice.discount: is not an allowed parameter (allowed "
                                   "parameters: api_key, invoice.client_id, invoice.notes)")


def test_reasons_are_bounded_however_long_the_answer() -> None:
    body = {"errors": {f"lines[{n}].price": ["x" * 500] * 5 for n in range(5000)},
            "allowed_params": ["p" * 100] * 1000}
    assert len(error_reasons(body)) <= MAX_ERRORS_TEXT
    assert len(str(failure(answer(422, body), changes=True))) <= MAX_ERRORS_TEXT + 100
    assert len(error_reasons({"errors": ["y" * 10_000] * 100})) <= MAX_ERRORS_TEXT


@pytest.mark.parametrize(("status", "family"), [
    (401, UpstreamAuthError), (403, UpstreamAuthError), (404, UpstreamEndpointError),
    (406, UpstreamRejected), (500, UpstreamUnavailable), (503, UpstreamUnavailable),
])
def test_facturagems_own_errors_are_certain(status: int, family: type) -> None:
    error = failure(answer(status, {"errors": {"base": ["refused"]}}), changes=True)
    assert isinstance(error, family) and not error.ambiguous and error.http_status == status


@pytest.mark.parametrize("response", [
    answer(502, text=GATEWAY), answer(504, text=GATEWAY), answer(422, text=GATEWAY),
    answer(500), answer(401, text=GATEWAY), answer(422, {"message": "other json"}),
    answer(422, {"errors": {}}), answer(422, ["errors"]),
], ids=["502-page", "504-page", "422-page", "500-empty", "401-page", "422-other-json",
        "422-empty-errors", "422-array"])
def test_any_other_answer_to_a_change_is_an_unknown_outcome(response: requests.Response) -> None:
    error = failure(response, changes=True)
    assert error.ambiguous and "not FACTURAgem's own error answer" in str(error)


@pytest.mark.parametrize("response", [answer(200, text=GATEWAY), answer(200)])
def test_an_unreadable_success_is_an_unknown_outcome(response: requests.Response) -> None:
    error = failure(response, changes=True)
    assert isinstance(error, UpstreamBadResponse) and error.ambiguous and error.retryable


@pytest.mark.parametrize("response", [answer(502, text=GATEWAY), answer(200, text=GATEWAY),
                                      answer(401, text=GATEWAY)])
def test_an_answer_to_a_request_that_changes_nothing_is_never_ambiguous(
        response: requests.Response) -> None:
    assert not failure(response, changes=False).ambiguous


def test_429_says_when_to_come_back() -> None:
    error = failure(answer(429, {"errors": {"base": ["slow down"]}},
                           headers={"Retry-After": "12"}), changes=True)
    assert isinstance(error, UpstreamRateLimited) and error.retry_after == 12
    assert not error.ambiguous


def test_what_an_answer_was_doing_leads_its_reason() -> None:
    error = failure(answer(422, {"errors": {"email": ["is invalid"]}}), changes=True,
                    doing="creating the client")
    assert str(error) == "HTTP 422: creating the client: email: is invalid"


@pytest.mark.parametrize(("body", "items"), [
    ([], []), ([{"id": 1}], [{"id": 1}]), ({"clients": [{"id": 2}]}, [{"id": 2}]),
    ({"a": [], "b": []}, None), ([1, 2], None), ({"id": 1}, None), (None, None),
])
def test_collections(body: Any, items: Any) -> None:
    assert collection(body) == items


@pytest.mark.parametrize(("resource", "found"), [
    ({"id": 17}, "17"), ({"id": "1-kovacek-nienow"}, "1-kovacek-nienow"),
    ({"id": True}, None), ({"id": None}, None), ({"id": "../admin"}, None),
    ({"id": "a" * 101}, None), ({}, None), ([], None),
])
def test_resource_ids_are_checked_before_they_go_into_a_url(resource: Any,
                                                            found: str | None) -> None:
    assert resource_id(resource) == found
