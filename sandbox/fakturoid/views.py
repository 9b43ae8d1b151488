"""The account's API as the simulated Fakturoid answers it: the current user, the account,
subjects, invoices (and correction documents), events and payments. Writes take at most one
queued fault (``sandbox.kit``) when their endpoint is among ``fault_targets``."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Flask, Response, g, request

from bridge.upstreams.fakturoid import assumptions as fak
from sandbox.fakturoid import validation
from sandbox.fakturoid.oauth import authorize, blocked
from sandbox.fakturoid.records import Account, Invoice
from sandbox.fakturoid.responses import error, errors, json_response, no_content
from sandbox.fakturoid.state import SimulatorState
from sandbox.kit.answers import answer_after, answer_before
from sandbox.kit.faults import is_before_fault

ACCOUNT = "/accounts/<slug>"
#: [DOC] events removed in v3 (use the payments and message endpoints)
_REMOVED_EVENTS = ("deliver", "deliver_reminder", "pay", "pay_proforma",
                   "pay_partial_proforma", "remove_payment")

Handler = Callable[[Account], tuple[Response, object]]


def register_api_routes(app: Flask, state: SimulatorState) -> None:
    @app.get("/user.json")
    def current_user() -> Response:
        allowed = authorize(state, None)
        if isinstance(allowed, Response):
            return allowed
        client, _ = allowed
        return json_response(200, {"id": 1, "full_name": "Sandbox Owner", "email": client.email,
                                   "default_account": client.slugs[0] if client.slugs else None,
                                   "accounts": [{"slug": slug, "name": slug,
                                                 "permission": "owner",
                                                 "allowed_scope": ["invoices", "expenses",
                                                                   "reports"]}
                                                for slug in client.slugs]})

    @app.get(f"{ACCOUNT}/account.json")
    def account_detail(slug: str) -> Response:
        allowed = authorize(state, slug)
        if isinstance(allowed, Response):
            return allowed
        _, account = allowed
        assert account is not None
        return json_response(200, account.to_json())

    @app.get(f"{ACCOUNT}/subjects.json")
    def subject_index(slug: str) -> Response:
        def listed(account: Account) -> list[Any]:
            records = state.subjects(account.slug)
            key = request.args.get("custom_id")
            if key is not None:
                records = [s for s in records if s.custom_id == key]
            return [s.to_json(_base(account)) for s in records]
        return _index(state, slug, listed)

    @app.get(f"{ACCOUNT}/subjects/<int:subject_id>.json")
    def subject_detail(slug: str, subject_id: int) -> Response:
        return _detail(state, slug, lambda account: state.subject(account.slug, subject_id))

    @app.post(f"{ACCOUNT}/subjects.json")
    def subject_create(slug: str) -> Response:
        return _write(state, slug, "subjects", lambda account: _create_subject(state, account))

    @app.get(f"{ACCOUNT}/invoices.json")
    def invoice_index(slug: str) -> Response:
        return _index(state, slug, lambda account: [
            i.to_json(_base(account)) for i in state.invoices(account.slug)
            if _matches(i, request.args)])

    @app.get(f"{ACCOUNT}/invoices/<int:invoice_id>.json")
    def invoice_detail(slug: str, invoice_id: int) -> Response:
        return _detail(state, slug, lambda account: state.invoice(account.slug, invoice_id))

    @app.post(f"{ACCOUNT}/invoices.json")
    def invoice_create(slug: str) -> Response:
        return _write(state, slug, "invoices", lambda account: _create_invoice(state, account))

    @app.post(f"{ACCOUNT}/invoices/<int:invoice_id>/fire.json")
    def invoice_fire(slug: str, invoice_id: int) -> Response:
        return _write(state, slug, "events",
                      lambda account: _fire(state, account, invoice_id))

    @app.post(f"{ACCOUNT}/invoices/<int:invoice_id>/payments.json")
    def payment_create(slug: str, invoice_id: int) -> Response:
        return _write(state, slug, "payments",
                      lambda account: _pay(state, account, invoice_id))


# --- reads ------------------------------------------------------------------------------


def _base(account: Account) -> str:
    return f"{request.host_url.rstrip('/')}{fak.ACCOUNT_PREFIX.format(slug=account.slug)}"


def _account(state: SimulatorState, slug: str) -> Account | Response:
    allowed = authorize(state, slug)
    if isinstance(allowed, Response):
        return allowed
    account = allowed[1]
    assert account is not None
    return account


def _index(state: SimulatorState, slug: str,
           listed: Callable[[Account], list[Any]]) -> Response:
    """[DOC] 40 records per page, ``?page=N``; a page past the end is an empty array. The
    order is not documented: newest first here, so nobody relies on it."""
    account = _account(state, slug)
    if isinstance(account, Response):
        return account
    records = sorted(listed(account), key=lambda record: -int(record["id"]))
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    start = (page - 1) * fak.PAGE_SIZE
    return json_response(200, records[start:start + fak.PAGE_SIZE])


def _detail(state: SimulatorState, slug: str, find: Callable[[Account], Any]) -> Response:
    account = _account(state, slug)
    if isinstance(account, Response):
        return account
    record = find(account)
    if record is None:
        return error(404, fak.NOT_FOUND)
    return json_response(200, record.to_json(_base(account)))


def _matches(invoice: Invoice, args: Mapping[str, str]) -> bool:
    """[DOC] the index filters (custom_id, number, status, subject_id, document_type)."""
    kind = args.get("document_type")
    if kind is not None and not (invoice.document_type == kind or (
            kind == "regular" and invoice.document_type != "proforma")):
        return False
    return all(args.get(name) is None or str(value) == args[name] for name, value in (
        ("custom_id", invoice.custom_id), ("number", invoice.number),
        ("status", invoice.status), ("subject_id", invoice.subject_id)))


# --- writes -----------------------------------------------------------------------------


def _write(state: SimulatorState, slug: str, target: str, handle: Handler) -> Response:
    """A write: read-only mode, then at most one fault, then the request as Fakturoid
    would handle it (an AFTER fault spoils its answer)."""
    if state.switches.read_only:
        g.outcome = "read_only"
        return error(fak.READ_ONLY_STATUS, "service_unavailable",
                     "Fakturoid is in read-only mode for maintenance; try again later")
    fault = state.take_fault() if target in state.switches.fault_targets else None
    if fault is not None:
        g.fault = fault.kind
        if is_before_fault(fault.kind):
            g.outcome = "fault"
            if fault.delay:
                state.sleep(fault.delay)
            return answer_before(fault, lambda status, message, headers: _fault_answer(
                state, slug, status, headers))
    account = _account(state, slug)
    if isinstance(account, Response):
        return account
    answer, order_id = handle(account)
    g.order_id = order_id
    if fault is None:
        return answer
    success = answer.status_code if 200 <= answer.status_code < 300 else 200
    return answer_after(state, fault, answer, order_id, success_status=success)


def _fault_answer(state: SimulatorState, slug: str, status: int,
                  headers: Mapping[str, str]) -> Response:
    """Fakturoid's own answer for an injected error status (its documented shapes)."""
    headers = dict(headers)
    if status == 401:
        return error(401, fak.INVALID_TOKEN, "The access token is invalid", headers)
    if status == 402:
        account = state.account(slug)
        return blocked(account) if account else error(404, fak.NOT_FOUND)
    if status == 422:
        return errors(422, {"base": ["Simulated validation failure"]}, headers)
    if status == 429:
        wait = headers.pop("Retry-After", "1")
        if state.switches.retry_after_header:
            headers["Retry-After"] = wait
        headers[fak.RATE_LIMIT_HEADER] = f"default;r=0;t={wait}"
        return error(429, "too_many_requests", "Rate limit exceeded; wait for the reset",
                     headers)
    codes = {403: ("forbidden", "You are not allowed to do this"),
             404: (fak.NOT_FOUND, None), 415: ("unsupported_media_type", "Use JSON"),
             503: ("service_unavailable", "Fakturoid is in read-only mode for maintenance")}
    code, description = codes.get(status, ("server_error", "Something went wrong"))
    return error(status, code, description, headers)


def _json_body() -> tuple[Any, Response | None]:
    """The request's JSON (numbers with a fraction as Decimal), or the refusal."""
    if request.mimetype != "application/json":
        # [DOC] "Requests that send JSON payload need to have a header Content-Type:
        # application/json"; [ASSUMPTION] others answer 415
        return None, error(415, "unsupported_media_type",
                           "Send JSON with Content-Type: application/json")
    try:
        body = json.loads(request.get_data().decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError):
        return None, error(400, "invalid_request", "The body is not valid JSON")
    if not isinstance(body, dict):
        return None, error(400, "invalid_request", "The body must be a JSON object")
    return body, None


def _created(record: Any, account: Account) -> Response:
    data = record.to_json(_base(account))
    return json_response(201, data, {"Location": data["url"]})


def _create_subject(state: SimulatorState, account: Account) -> tuple[Response, object]:
    body, refused = _json_body()
    order_id = fak.order_of_subject_key(body.get("custom_id")) if body else None
    if refused is not None:
        return refused, order_id
    problems = validation.check_subject(body)
    if problems:
        g.outcome = "validation"
        return errors(422, problems), order_id
    subject, why = state.create_subject(account.slug, body)
    if subject is None:
        g.outcome = why
        if why == "taken":
            key, message = fak.SUBJECT_CUSTOM_ID_TAKEN
            return errors(422, {key: [message]}), order_id
        return error(403, "forbidden", "The subject limit of your plan is reached"), order_id
    g.outcome = "created"
    return _created(subject, account), order_id


def _create_invoice(state: SimulatorState, account: Account) -> tuple[Response, object]:
    body, refused = _json_body()
    if refused is not None:
        return refused, None
    corrected = None
    if body.get("correction_id") is not None:
        corrected = state.invoice(account.slug, body["correction_id"]) \
            if isinstance(body["correction_id"], int) else None
    key = corrected.custom_id if corrected is not None else body.get("custom_id")
    order = fak.order_of_invoice_key(key)
    order_id = order[1] if order else None
    if not account.has_bank_account:  # [DOC] 403 with the errors shape and a link
        g.outcome = "no_bank_account"
        return errors(403, {"bank_account": [
            "Please set up a bank account in your Fakturoid account https://app.fakturoid.cz/"
            f"{account.slug}/settings/bank_accounts to create an invoice."]}), order_id
    problems = validation.check_invoice(
        body, account_currency=account.currency, vat_payer=account.vat_payer,
        subject_exists=state.subject(account.slug, body.get("subject_id")) is not None,
        corrected_exists=None if body.get("correction_id") is None else corrected is not None)
    if problems:
        g.outcome = "validation"
        return errors(422, problems), order_id
    invoice = state.create_invoice(account.slug, body, list(body["lines"]))
    g.outcome = "created"
    return _created(invoice, account), order_id


def _order_of(invoice: Invoice) -> int | None:
    order = fak.order_of_invoice_key(invoice.custom_id)
    return order[1] if order else None


def _fire(state: SimulatorState, account: Account, invoice_id: int) -> tuple[Response, object]:
    invoice = state.invoice(account.slug, invoice_id)
    if invoice is None:
        return error(404, fak.NOT_FOUND), None
    event = request.args.get("event", "")
    if event not in fak.EVENTS or event in _REMOVED_EVENTS or not state.fire(invoice, event):
        g.outcome = "event_refused"
        return errors(422, {"event": [f"{event} cannot be fired"]}), _order_of(invoice)
    g.outcome = f"event_{event}"
    return no_content(), _order_of(invoice)


def _pay(state: SimulatorState, account: Account, invoice_id: int) -> tuple[Response, object]:
    invoice = state.invoice(account.slug, invoice_id)
    if invoice is None:
        return error(404, fak.NOT_FOUND), None
    body, refused = _json_body()
    if refused is not None:
        return refused, _order_of(invoice)
    problems = validation.check_payment(body)
    if problems:
        g.outcome = "validation"
        return errors(422, problems), _order_of(invoice)
    paid_on = validation.date_of(body["paid_on"]) if "paid_on" in body else date.today()
    value = validation.price_of(body["amount"]) if "amount" in body else None
    payment, why = state.add_payment(invoice, paid_on or date.today(), value,
                                     body.get("mark_document_as_paid"))
    if payment is None:
        g.outcome = f"payment_{why}"
        if why == "paid":
            return error(403, *fak.ALREADY_PAID), _order_of(invoice)
        return error(403, "forbidden", "Payments cannot be changed on a cancelled invoice"), \
            _order_of(invoice)
    g.outcome = "payment_created"
    data = payment.to_json()
    return json_response(201, data), _order_of(invoice)
