"""The facturare.md adapter over real HTTP against its simulator: credentials checked
without creating anything, invoices found by our metadata key, customers reused, payments
recorded once and found after a lost answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bridge.config.model import ShopSettings
from bridge.errors import UpstreamAuthError, UpstreamEndpointError, UpstreamError
from bridge.mapping.build import map_order
from bridge.upstreams.facturare import assumptions as facturare
from bridge.upstreams.facturare.adapter import FacturareUpstream, payment_timestamp
from bridge.upstreams.facturare.settings import FacturareSettings
from bridge.upstreams.port import ActionRef, InvoiceRef, PaymentRequest
from sandbox.facturare import DEMO_API_KEY, FacturareState, RunningSimulator, run_simulator
from sandbox.woocommerce.samples import build_order


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_simulator(state=FacturareState(customer_faults=False)) as running:
        yield running


def adapter_for(simulator: RunningSimulator, key: str = DEMO_API_KEY,
                path: str = "") -> FacturareUpstream:
    return FacturareUpstream(FacturareSettings(base_url=simulator.url + path, api_key=key,
                                               connect_timeout=2, read_timeout=0.5))


@pytest.fixture
def adapter(simulator: RunningSimulator) -> Iterator[FacturareUpstream]:
    upstream = adapter_for(simulator)
    yield upstream
    upstream.close()


def payload(adapter: FacturareUpstream, order_id: int, **order: Any) -> dict[str, Any]:
    shop = ShopSettings(id="shop", webhook_secret="s", upstream=adapter.settings)
    return adapter.render(map_order(build_order(order_id=order_id, **order), shop,
                                    adapter.rules))


def test_check_credentials_reads_and_creates_nothing(simulator: RunningSimulator,
                                                     adapter: FacturareUpstream) -> None:
    assert "API key accepted by" in adapter.check_credentials()
    assert simulator.state.stats()["write_requests"] == 0
    with pytest.raises(UpstreamAuthError, match="Incorrect or missing API key") as refused:
        adapter_for(simulator, key="revoked-key").check_credentials()
    assert refused.value.http_status == 401 and not refused.value.ambiguous
    with pytest.raises(UpstreamEndpointError, match="is base_url right"):
        adapter_for(simulator, path="/api/v2").check_credentials()


def test_find_invoice_by_our_metadata_key(adapter: FacturareUpstream) -> None:
    body = payload(adapter, 501)
    assert adapter.find_invoice(body) is None
    created = adapter.create_invoice(body)
    assert created.invoice_id and created.invoice_number
    found = adapter.find_invoice(body)
    assert found == InvoiceRef(created.invoice_id, created.invoice_number, existed=True,
                               http_status=200, looked_up=True)
    # another order of the same shop, or the same order of another shop, is another key
    assert adapter.find_invoice(payload(adapter, 502)) is None
    other_shop = {**body, "invoice": {**body["invoice"], "metadata": {
        facturare.ORDER_KEY: "other:501"}}}
    assert adapter.find_invoice(other_shop) is None


def test_an_invoice_for_an_existing_customer_reuses_it(simulator: RunningSimulator,
                                                       adapter: FacturareUpstream) -> None:
    adapter.create_invoice(payload(adapter, 601))
    adapter.create_invoice(payload(adapter, 602))
    adapter.create_invoice(payload(adapter, 603, customer_note="call first"))
    customers = simulator.state.listing(DEMO_API_KEY, "customers")
    assert len(customers) == 1
    assert customers[0]["metadata"][facturare.CUSTOMER_KEY]


def test_a_payment_is_recorded_once_and_marks_the_invoice_paid(
        simulator: RunningSimulator, adapter: FacturareUpstream) -> None:
    body = payload(adapter, 701, payment_method=("bacs", "Transfer bancar"))
    ref = adapter.create_invoice(body)
    payment = PaymentRequest(invoice_id=str(ref.invoice_id), amount=Decimal("1005.00"),
                             currency="MDL", paid_on=date(2026, 3, 15), key="shop:701",
                             method="bacs", method_title="Transfer bancar")
    assert adapter.find_payment(payment) is None
    recorded = adapter.record_payment(payment)
    assert recorded.reference and not recorded.existed and recorded.http_status == 201
    [stored] = simulator.state.listing(DEMO_API_KEY, "payments")
    assert stored["amount"] == Decimal("1005.00") and stored["method"] == "wire_transfer"
    assert stored["date"] == payment_timestamp(payment) == 1773576000  # 2026-03-15 12:00 UTC
    assert stored["notes"] == "Transfer bancar"
    invoice = simulator.state.get(DEMO_API_KEY, "invoices", int(str(ref.invoice_id)))
    assert invoice is not None and invoice["paid"] is True and invoice["balance"] == 0
    # asked again: found, and recording again adds nothing
    assert adapter.find_payment(payment) == ActionRef(reference=recorded.reference,
                                                    existed=True, http_status=200)
    again = adapter.record_payment(payment)
    assert again.existed and len(simulator.state.listing(DEMO_API_KEY, "payments")) == 1


def test_a_payment_whose_answer_was_lost_is_found(simulator: RunningSimulator,
                                                  adapter: FacturareUpstream) -> None:
    ref = adapter.create_invoice(payload(adapter, 702))
    payment = PaymentRequest(invoice_id=str(ref.invoice_id), amount=Decimal("1005.00"),
                             currency="MDL", paid_on=date(2026, 3, 15), key="shop:702")
    simulator.state.add_fault("slow", times=1, delay=1.5)
    with pytest.raises(UpstreamError) as lost:
        adapter.record_payment(payment)
    assert lost.value.ambiguous
    found = adapter.find_payment(payment)
    assert found is not None and found.existed and found.reference


def test_an_invoice_paid_by_hand_needs_no_payment_from_us(simulator: RunningSimulator,
                                                          adapter: FacturareUpstream) -> None:
    ref = adapter.create_invoice(payload(adapter, 703))
    invoice = simulator.state.get(DEMO_API_KEY, "invoices", int(str(ref.invoice_id)))
    assert invoice is not None
    simulator.state.create_payment(DEMO_API_KEY, {
        "customer": invoice["customer"], "invoice": invoice["id"], "amount": "1005.00",
        "currency": "mdl"})  # an accountant recorded it in facturare.md
    payment = PaymentRequest(invoice_id=str(ref.invoice_id), amount=Decimal("1005.00"),
                             currency="MDL", paid_on=date(2026, 3, 15), key="shop:703")
    assert adapter.find_payment(payment) is not None
    assert adapter.record_payment(payment).existed
    assert len(simulator.state.listing(DEMO_API_KEY, "payments")) == 1


def test_a_payment_for_an_invoice_that_is_gone_is_refused_for_good(
        adapter: FacturareUpstream) -> None:
    payment = PaymentRequest(invoice_id="99999", amount=Decimal("1"), currency="MDL",
                             paid_on=date(2026, 3, 15), key="shop:1")
    with pytest.raises(UpstreamError, match="has no invoice 99999") as refused:
        adapter.record_payment(payment)
    assert not refused.value.retryable and not refused.value.ambiguous


def test_a_payment_in_another_currency_is_refused_by_the_service(
        adapter: FacturareUpstream) -> None:
    ref = adapter.create_invoice(payload(adapter, 704))
    payment = PaymentRequest(invoice_id=str(ref.invoice_id), amount=Decimal("50"),
                             currency="EUR", paid_on=date(2026, 3, 15), key="shop:704")
    with pytest.raises(UpstreamError, match=r"currency: must be the invoice's currency \(mdl\)"):
        adapter.record_payment(payment)
