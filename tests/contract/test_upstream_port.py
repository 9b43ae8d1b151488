"""The upstream port's contract: one set of scenarios, run against every adapter and its
simulator over real HTTP (the in-memory upstream is the reference). A new upstream joins by
adding its harness to HARNESSES.

What every adapter promises the dispatcher (docs/guarantees.md): a created invoice comes
back with its id; a repeated order is folded or found, never silently doubled when the
adapter says it is not; a refusal the service itself states is permanent or transient but
never "unknown"; every answer that did not come, or came from something else, is ambiguous;
401/403 are account errors (the shop pauses); 429 carries its Retry-After.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bridge.config.model import ShopSettings
from bridge.errors import (
    UpstreamAccountError,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
)
from bridge.mapping.build import map_order
from bridge.upstreams.econt.settings import EcontSettings
from bridge.upstreams.port import (
    CancelRequest,
    CancelsInvoices,
    CorrectionRequest,
    CorrectsInvoices,
    InvoiceRef,
    InvoiceUpstream,
    PaymentRequest,
    RecordsPayments,
    invoice_finder,
)
from sandbox.contract import Fault, Harness, RunningUpstream
from sandbox.econt.harness import ECONT_HARNESS
from sandbox.facturagem.harness import FACTURAGEM_HARNESS
from sandbox.facturare.harness import FACTURARE_HARNESS
from sandbox.fakturoid.harness import FAKTUROID_HARNESS
from sandbox.memory import MEMORY_HARNESS
from sandbox.woocommerce.samples import build_order

HARNESSES = [
    MEMORY_HARNESS,
    ECONT_HARNESS,
    FACTURAGEM_HARNESS,
    FACTURARE_HARNESS,
    FAKTUROID_HARNESS,
]

SHOP = ShopSettings(id="shop", webhook_secret="s", upstream=EcontSettings(
    base_url="http://127.0.0.1:1", client_id="0" * 32, token="1" * 32))
_orders = iter(range(10_000, 20_000))


@pytest.fixture(params=HARNESSES, ids=[harness.kind for harness in HARNESSES])
def running(request: pytest.FixtureRequest) -> Iterator[RunningUpstream]:
    harness: Harness = request.param
    with harness.start() as started:
        yield started


def payload(upstream: InvoiceUpstream, order_id: int | None = None) -> tuple[int, Any]:
    order_id = order_id if order_id is not None else next(_orders)
    draft = map_order(build_order(order_id=order_id, tax_rate=20), SHOP, upstream.rules)
    return order_id, upstream.render(draft)


def failure(running: RunningUpstream, fault: Fault, **options: Any) -> tuple[int, UpstreamError]:
    order_id, body = payload(running.adapter)
    running.inject(fault, **options)
    with pytest.raises(UpstreamError) as raised:
        running.adapter.create_invoice(body)
    return order_id, raised.value


def test_create_returns_the_invoice(running: RunningUpstream) -> None:
    order_id, body = payload(running.adapter)
    ref = running.adapter.create_invoice(body)
    assert ref.invoice_id and not ref.existed
    assert running.invoice_count(order_id) == 1


def test_a_repeated_order_is_folded_or_found_never_doubled_unnoticed(
        running: RunningUpstream) -> None:
    order_id, body = payload(running.adapter)
    first = running.adapter.create_invoice(body)
    again = running.adapter.create_invoice(body)
    finder = invoice_finder(running.adapter)
    if running.adapter.dedupes_repeats:
        assert again.existed and running.invoice_count(order_id) == 1
        assert again.invoice_id in (None, first.invoice_id)
    else:  # the service doubles repeats: the adapter must at least find the first one
        assert finder is not None, "an upstream that doubles repeats needs find_invoice"
    if finder is not None:
        found = finder.find_invoice(body)
        assert found is not None and found.invoice_id == first.invoice_id


def test_find_invoice_finds_nothing_for_an_order_never_sent(running: RunningUpstream) -> None:
    finder = invoice_finder(running.adapter)
    if finder is None:
        pytest.skip(f"{type(running.adapter).__name__} has no find_invoice (optional)")
    _, body = payload(running.adapter)
    assert finder.find_invoice(body) is None


def test_a_validation_failure_is_permanent_and_certain(running: RunningUpstream) -> None:
    order_id, error = failure(running, Fault.INVALID)
    assert isinstance(error, UpstreamRejected) and not error.retryable
    assert not error.ambiguous and running.invoice_count(order_id) == 0


@pytest.mark.parametrize("fault", [Fault.UNAUTHORIZED, Fault.FORBIDDEN])
def test_refused_credentials_are_an_account_error(running: RunningUpstream,
                                                  fault: Fault) -> None:
    order_id, error = failure(running, fault)
    assert isinstance(error, UpstreamAccountError) and not error.ambiguous
    assert error.http_status in (401, 403) and running.invoice_count(order_id) == 0


def test_429_says_when_to_come_back(running: RunningUpstream) -> None:
    _, error = failure(running, Fault.RATE_LIMITED, retry_after=7)
    assert isinstance(error, UpstreamRateLimited) and error.retryable
    assert error.retry_after == 7 and not error.ambiguous


def test_the_services_own_5xx_is_transient_and_certain(running: RunningUpstream) -> None:
    order_id, error = failure(running, Fault.SERVER_ERROR)
    assert error.retryable and not error.ambiguous and running.invoice_count(order_id) == 0


@pytest.mark.parametrize("fault", [Fault.GATEWAY_PAGE, Fault.TIMEOUT,
                                   Fault.DROP_AFTER_CREATE, Fault.UNREADABLE])
def test_every_answer_that_proves_nothing_is_ambiguous(running: RunningUpstream,
                                                       fault: Fault) -> None:
    order_id, error = failure(running, fault)
    assert error.ambiguous and error.retryable
    created = running.invoice_count(order_id)
    assert created == (0 if fault is Fault.GATEWAY_PAGE else 1)
    finder = invoice_finder(running.adapter)
    if finder is not None and created:  # the lost invoice can be found again
        _, body = payload(running.adapter, order_id)
        found = finder.find_invoice(body)
        assert found is not None and found.invoice_id


def test_a_rendered_body_is_plain_json(running: RunningUpstream) -> None:
    """It is stored on the sync row and shown to operators: JSON as it is, no Decimal or
    float left in it (money as strings), and without credentials."""
    _, body = payload(running.adapter)
    assert body and json.loads(json.dumps(body)) == body
    assert not any(isinstance(value, float) for value in _leaves(body))
    assert "connect" not in body and "token" not in json.dumps(body).lower()


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


# --- follow-up actions (optional capabilities) ------------------------------------------


def invoiced(running: RunningUpstream) -> tuple[Any, InvoiceRef]:
    draft = map_order(build_order(order_id=next(_orders), tax_rate=20), SHOP,
                      running.adapter.rules)
    ref = running.adapter.create_invoice(running.adapter.render(draft))
    assert ref.invoice_id
    return draft, ref


def payment_for(draft: Any, ref: InvoiceRef) -> PaymentRequest:
    return PaymentRequest(invoice_id=str(ref.invoice_id), amount=draft.total,
                          currency=draft.currency, paid_on=date(2026, 3, 15),
                          key=f"shop:{draft.order_id}", method="bacs",
                          method_title="Direct bank transfer")


def capability(running: RunningUpstream, protocol: type) -> Any:
    if not isinstance(running.adapter, protocol):
        pytest.skip(f"{type(running.adapter).__name__} has no {protocol.__name__} (optional)")
    return running.adapter


def test_a_payment_is_recorded_once_and_can_be_found(running: RunningUpstream) -> None:
    payments = capability(running, RecordsPayments)
    draft, ref = invoiced(running)
    payment = payment_for(draft, ref)
    assert payments.find_payment(payment) is None
    payments.record_payment(payment)
    found = payments.find_payment(payment)
    assert found is not None and found.existed


def test_a_payment_whose_answer_was_lost_is_found_not_recorded_twice(
        running: RunningUpstream) -> None:
    payments = capability(running, RecordsPayments)
    draft, ref = invoiced(running)
    payment = payment_for(draft, ref)
    running.inject(Fault.DROP_AFTER_CREATE)
    with pytest.raises(UpstreamError) as lost:
        payments.record_payment(payment)
    assert lost.value.ambiguous
    assert payments.find_payment(payment) is not None


def test_a_cancellation_can_be_found(running: RunningUpstream) -> None:
    cancels = capability(running, CancelsInvoices)
    draft, ref = invoiced(running)
    cancel = CancelRequest(invoice_id=str(ref.invoice_id), key=f"shop:{draft.order_id}",
                           reason="order cancelled in the shop")
    assert cancels.find_cancellation(cancel) is None
    cancels.cancel_invoice(cancel)
    assert cancels.find_cancellation(cancel) is not None


def test_a_correction_is_issued_once_and_can_be_found(running: RunningUpstream) -> None:
    corrects = capability(running, CorrectsInvoices)
    draft, ref = invoiced(running)
    correction = CorrectionRequest(
        invoice_id=str(ref.invoice_id), key=f"shop:{draft.order_id}:77", refund_id=77,
        amount=Decimal("10.00"), currency=draft.currency, reason="one item returned",
        draft=draft)
    assert corrects.find_correction(correction) is None
    corrects.correct_invoice(correction)
    found = corrects.find_correction(correction)
    assert found is not None and found.existed
