"""Payments, cancellations and corrections against the simulated Fakturoid over real HTTP:
each done once, each found by its lookup (which creates nothing) after a lost answer, and
Fakturoid's refusals turned into clear permanent reasons. The contract suite
(tests/contract) runs the port's scenarios; these are Fakturoid's own cases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bridge.config.model import ShopSettings
from bridge.errors import UpstreamError, UpstreamRejected
from bridge.mapping.build import map_order
from bridge.mapping.draft import InvoiceDraft
from bridge.upstreams.fakturoid import assumptions as fak
from bridge.upstreams.fakturoid.adapter import FakturoidUpstream
from bridge.upstreams.fakturoid.auth import TokenStore
from bridge.upstreams.port import CancelRequest, CorrectionRequest, PaymentRequest
from sandbox.fakturoid import DEMO_SLUG, RunningSimulator, SimulatorState
from sandbox.fakturoid import run_simulator as run_fakturoid
from sandbox.fakturoid.harness import adapter_settings
from sandbox.woocommerce.samples import Shipping, build_order

_orders = iter(range(500, 600))


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_fakturoid(state=SimulatorState()) as running:
        yield running


@pytest.fixture
def adapter(simulator: RunningSimulator) -> Iterator[FakturoidUpstream]:
    upstream = FakturoidUpstream(adapter_settings(simulator.url, read_timeout=1.0),
                                 tokens=TokenStore())
    yield upstream
    upstream.close()


def invoiced(adapter: FakturoidUpstream, **order: Any) -> tuple[InvoiceDraft, str]:
    shop = ShopSettings(id="shop", webhook_secret="s", upstream=adapter.settings)
    draft = map_order(build_order(order_id=next(_orders), **order), shop)
    ref = adapter.create_invoice(adapter.render(draft))
    assert ref.invoice_id
    return draft, ref.invoice_id


def invoice(simulator: RunningSimulator, invoice_id: str) -> Any:
    found = simulator.state.invoice(DEMO_SLUG, int(invoice_id))
    assert found is not None
    return found


def payment(draft: InvoiceDraft, invoice_id: str, amount: Decimal | None = None
            ) -> PaymentRequest:
    return PaymentRequest(invoice_id=invoice_id, amount=amount or draft.total,
                          currency=draft.currency, paid_on=date(2026, 3, 15),
                          key=f"shop:{draft.order_id}", method="bacs")


def test_a_payment_marks_the_invoice_paid_once(simulator: RunningSimulator,
                                               adapter: FakturoidUpstream) -> None:
    draft, invoice_id = invoiced(adapter, tax_rate=21)
    request = payment(draft, invoice_id)
    assert adapter.find_payment(request) is None
    ref = adapter.record_payment(request)
    paid = invoice(simulator, invoice_id)
    assert paid.status == "paid" and paid.paid_on == date(2026, 3, 15)
    assert [p.amount for p in paid.payments] == [draft.total] and ref.reference
    # sent again (a task retried without asking): Fakturoid's 403 "already paid" is the
    # payment being there, not a refused account
    again = adapter.record_payment(request)
    assert again.existed and len(paid.payments) == 1


def test_a_payment_whose_answer_was_lost_is_found(simulator: RunningSimulator,
                                                  adapter: FakturoidUpstream) -> None:
    draft, invoice_id = invoiced(adapter)
    simulator.state.configure(fault_targets=("payments",))
    simulator.state.add_fault("gateway_after_create", times=1, status=504)
    with pytest.raises(UpstreamError) as lost:
        adapter.record_payment(payment(draft, invoice_id))
    assert lost.value.ambiguous
    found = adapter.find_payment(payment(draft, invoice_id))
    assert found is not None and found.existed
    assert len(invoice(simulator, invoice_id).payments) == 1


def test_a_paid_invoice_is_found_paid_whatever_the_amount(simulator: RunningSimulator,
                                                          adapter: FakturoidUpstream) -> None:
    """Paid by hand in Fakturoid (or bank pairing) for the whole amount: the order's
    payment is there, nothing to add."""
    draft, invoice_id = invoiced(adapter)
    other = payment(draft, invoice_id, amount=draft.total - Decimal("0.01"))
    adapter.record_payment(other)
    found = adapter.find_payment(payment(draft, invoice_id))
    assert found is not None and found.existed


def test_a_payment_for_an_invoice_deleted_in_fakturoid_is_a_clear_refusal(
        adapter: FakturoidUpstream) -> None:
    draft, _ = invoiced(adapter)
    with pytest.raises(UpstreamRejected) as refused:
        adapter.record_payment(payment(draft, "987654"))
    assert "Fakturoid has no invoice 987654" in str(refused.value)
    assert not refused.value.ambiguous


def test_a_cancellation_and_its_lookup(simulator: RunningSimulator,
                                       adapter: FakturoidUpstream) -> None:
    draft, invoice_id = invoiced(adapter)
    request = CancelRequest(invoice_id=invoice_id, key=f"shop:{draft.order_id}",
                            reason="order cancelled in the shop")
    assert adapter.find_cancellation(request) is None
    adapter.cancel_invoice(request)
    assert invoice(simulator, invoice_id).status == fak.STATUS_CANCELLED
    assert adapter.find_cancellation(request) is not None
    assert adapter.cancel_invoice(request).existed  # 422 "cannot be fired": it is done


def test_a_cancellation_fakturoid_refuses_is_permanent_with_the_reason(
        simulator: RunningSimulator, adapter: FakturoidUpstream) -> None:
    simulator.state.configure(cancel_allowed="non_vat_payers")
    _, invoice_id = invoiced(adapter)
    with pytest.raises(UpstreamRejected) as refused:
        adapter.cancel_invoice(CancelRequest(invoice_id=invoice_id, key="shop:1",
                                             reason="cancelled"))
    error = refused.value
    assert not error.retryable and not error.ambiguous and error.http_status == 422
    assert "event: cancel cannot be fired" in str(error)
    assert "correction document" in str(error)


def correction_for(draft: InvoiceDraft, invoice_id: str, amount: str,
                   refund_id: int = 77) -> CorrectionRequest:
    return CorrectionRequest(invoice_id=invoice_id, key=f"shop:{draft.order_id}:{refund_id}",
                             refund_id=refund_id, amount=Decimal(amount),
                             currency=draft.currency, reason="one item returned", draft=draft)


def test_a_partial_refund_is_a_correction_document_for_that_amount(
        simulator: RunningSimulator, adapter: FakturoidUpstream) -> None:
    draft, invoice_id = invoiced(adapter, tax_rate=21,
                                 shipping=Shipping(cost="100.00", taxable=False))
    request = correction_for(draft, invoice_id, "100.00")
    assert adapter.find_correction(request) is None
    ref = adapter.correct_invoice(request)
    document = invoice(simulator, str(ref.reference))
    assert document.document_type == "correction"
    assert document.fields["correction_id"] == int(invoice_id)
    assert document.total == Decimal("-100.00")  # [ASSUMPTION] negative amounts
    assert sorted(line.vat_rate for line in document.lines) == [0, 21]
    assert document.subject_id == invoice(simulator, invoice_id).subject_id
    found = adapter.find_correction(request)
    assert found is not None and found.reference == ref.reference
    # the invoice itself is still found as the order's invoice, not the correction
    payload = adapter.render(draft)
    looked_up = adapter.find_invoice(payload)
    assert looked_up is not None and looked_up.invoice_id == invoice_id


def test_a_full_refund_in_another_currency_keeps_the_invoices_rate(
        simulator: RunningSimulator, adapter: FakturoidUpstream) -> None:
    draft, invoice_id = invoiced(adapter, tax_rate=21, currency="EUR")
    ref = adapter.correct_invoice(correction_for(draft, invoice_id, str(draft.total)))
    document = invoice(simulator, str(ref.reference))
    assert document.total == -draft.total and document.currency == "EUR"
    assert document.fields["exchange_rate"] == "24.35"


def test_two_refunds_are_two_corrections_each_found_by_its_own_key(
        simulator: RunningSimulator, adapter: FakturoidUpstream) -> None:
    draft, invoice_id = invoiced(adapter)
    first = correction_for(draft, invoice_id, "10.00", refund_id=1)
    second = correction_for(draft, invoice_id, "20.00", refund_id=2)
    adapter.correct_invoice(first)
    assert adapter.find_correction(second) is None
    adapter.correct_invoice(second)
    found = [adapter.find_correction(request) for request in (first, second)]
    assert all(ref is not None for ref in found) and found[0] != found[1]
