"""The FACTURAgem adapter against its simulator over real HTTP: one login shared and kept
(renewed once on a 401, never DESTROYed), clients found by tax id or e-mail across pages or
created once, invoices found again after a lost answer, payments recorded once, and every
refusal a readable reason."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bridge.config.model import MappingSettings, ShopSettings
from bridge.errors import UpstreamAuthError, UpstreamError, UpstreamRejected
from bridge.mapping.build import map_order
from bridge.upstreams.facturagem.adapter import FacturagemUpstream
from bridge.upstreams.facturagem.auth import forget_sessions
from bridge.upstreams.facturagem.settings import FacturagemSettings
from bridge.upstreams.port import PaymentRequest
from sandbox.facturagem.server import RunningSimulator, run_simulator
from sandbox.facturagem.state import (
    DEMO_ACCOUNT_ID,
    DEMO_LOGIN,
    DEMO_PASSWORD,
    FacturagemState,
)
from sandbox.woocommerce.samples import Billing, build_order

BUYER = Billing(first_name="Lucía", last_name="Martín", company="Ultramarinos Sol S.L.",
                city="Madrid", postcode="28013", country="ES", email="compras@sol.example")


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    forget_sessions()  # every test starts without a cached key
    with run_simulator(state=FacturagemState(page_size=3)) as running:
        yield running
    forget_sessions()


def settings_for(simulator: RunningSimulator, **changes: Any) -> FacturagemSettings:
    return FacturagemSettings(base_url=simulator.api_url, login=DEMO_LOGIN,
                              password=DEMO_PASSWORD, connect_timeout=2.0, read_timeout=0.5,
                              **changes)


@pytest.fixture
def adapter(simulator: RunningSimulator) -> Iterator[FacturagemUpstream]:
    upstream = FacturagemUpstream(settings_for(simulator))
    yield upstream
    upstream.close()


def payload(adapter: FacturagemUpstream, order_id: int, billing: Billing = BUYER,
            nif: str = "") -> dict[str, Any]:
    shop = ShopSettings(id="tienda", webhook_secret="s", upstream=adapter.settings,
                        mapping=MappingSettings(vat_id_meta_keys=("_billing_nif",)))
    order = build_order(order_id=order_id, currency="EUR", tax_rate=21, billing=billing,
                        extra_meta=[("_billing_nif", nif)] if nif else [])
    return adapter.render(map_order(order, shop, adapter.rules))


def stats(simulator: RunningSimulator) -> dict[str, Any]:
    return simulator.state.stats()


def test_an_invoice_is_created_for_the_buyers_client(adapter: FacturagemUpstream,
                                                     simulator: RunningSimulator) -> None:
    body = payload(adapter, 1201, nif="B12345678")
    ref = adapter.create_invoice(body)
    [invoice] = simulator.state.invoices()
    [client] = simulator.state.clients()
    assert ref.invoice_id == str(invoice.id) and ref.invoice_number == invoice.number
    assert client.fields["nif"] == "B12345678" and invoice.client_id == client.id
    assert invoice.reference == "tienda:1201" and invoice.total == Decimal(
        build_order(order_id=1201, currency="EUR", tax_rate=21, billing=BUYER)["total"])


def test_one_login_is_shared_by_every_adapter_and_thread_and_never_ended(
        simulator: RunningSimulator) -> None:
    adapters = [FacturagemUpstream(settings_for(simulator)) for _ in range(3)]
    threads = [threading.Thread(target=a.create_invoice, args=(payload(a, 1300 + n),))
               for n, a in enumerate(adapters * 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for a in adapters:
        a.close()
    counts = stats(simulator)
    assert counts["invoices"] == 6 and counts["logins"] == 1
    assert counts["sessions_destroyed"] == 0


def test_a_refused_key_means_one_new_login_then_the_request_again(
        adapter: FacturagemUpstream, simulator: RunningSimulator) -> None:
    adapter.create_invoice(payload(adapter, 1401))
    simulator.state.revoke_keys()  # as if the session had been DESTROYed elsewhere
    threads = [threading.Thread(target=adapter.create_invoice, args=(payload(adapter, n),))
               for n in range(1402, 1408)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = stats(simulator)
    assert counts["invoices"] == 7 and counts["logins"] == 2
    assert counts["rejects"]["unauthorized"] >= 1 and counts["sessions_destroyed"] == 0


def test_a_password_that_no_longer_works_is_an_account_error(
        adapter: FacturagemUpstream, simulator: RunningSimulator) -> None:
    adapter.create_invoice(payload(adapter, 1501))
    simulator.state.revoke_keys()
    simulator.state.add_user(DEMO_LOGIN, "changed", DEMO_ACCOUNT_ID, "Demo")
    with pytest.raises(UpstreamAuthError) as refused:
        adapter.create_invoice(payload(adapter, 1502))
    assert not refused.value.ambiguous and refused.value.http_status == 401
    assert "login refused" in str(refused.value)
    assert "Twitter or Facebook" in str(refused.value)


@pytest.mark.parametrize("place", ["query", "body"])
def test_the_key_goes_where_configured(simulator: RunningSimulator, place: str) -> None:
    upstream = FacturagemUpstream(settings_for(simulator, api_key_in=place))
    try:
        assert upstream.create_invoice(payload(upstream, 1601)).invoice_id
        assert upstream.find_invoice(payload(upstream, 1601)) is not None
    finally:
        upstream.close()


def test_the_key_never_shows_in_an_error(adapter: FacturagemUpstream,
                                         simulator: RunningSimulator) -> None:
    adapter.check_credentials()
    key = simulator.state.log_in(DEMO_LOGIN, DEMO_PASSWORD)[1]  # type: ignore[index]
    simulator.stop()  # the next request cannot connect; requests quotes its URL
    with pytest.raises(UpstreamError) as failed:
        adapter.find_invoice(payload(adapter, 1701))
    assert key not in str(failed.value) and "[api_key]" in str(failed.value)
    assert failed.value.__cause__ is None


def test_clients_are_found_by_tax_id_across_pages(adapter: FacturagemUpstream,
                                                  simulator: RunningSimulator) -> None:
    for n in range(7):  # three pages of others first
        simulator.state.create_client(DEMO_ACCOUNT_ID, {"name": f"Other {n}",
                                                        "nif": f"B0000000{n}"})
    simulator.state.create_client(DEMO_ACCOUNT_ID, {"name": "Sol", "nif": "b-12.345.678",
                                                    "email": "other@sol.example"})
    adapter.create_invoice(payload(adapter, 1801, nif="B12345678"))
    adapter.create_invoice(payload(adapter, 1802, nif="B12345678"))
    assert stats(simulator)["clients"] == 8  # none created
    assert {invoice.client_id for invoice in simulator.state.invoices()} == {8}


def test_a_person_is_found_by_e_mail_but_is_not_the_company_with_that_e_mail(
        adapter: FacturagemUpstream, simulator: RunningSimulator) -> None:
    company = simulator.state.create_client(DEMO_ACCOUNT_ID, {
        "name": "Sol S.L.", "nif": "B12345678", "email": "compras@sol.example"})
    person = Billing(first_name="Lucía", last_name="Martín", email="COMPRAS@sol.example")
    adapter.create_invoice(payload(adapter, 1901, billing=person))
    adapter.create_invoice(payload(adapter, 1902, billing=person))
    [created] = [c for c in simulator.state.clients() if c.id != company.id]
    assert created.fields == {"name": "Lucía Martín", "email": "COMPRAS@sol.example",
                              "address": "bd. Dacia 27, ap. 41", "city": "Chișinău",
                              "postal_code": "MD-2038", "country": "MD",
                              "phone": "+37369123456"}
    assert {i.client_id for i in simulator.state.invoices()} == {created.id}


@pytest.mark.parametrize("summaries", ["full", "brief"])
def test_an_invoice_whose_answer_was_lost_is_found_again(
        adapter: FacturagemUpstream, simulator: RunningSimulator, summaries: str) -> None:
    simulator.state.configure(summaries=summaries)
    for n in range(7):  # other invoices of the same buyer, on earlier pages
        adapter.create_invoice(payload(adapter, 2000 + n))
    body = payload(adapter, 2101)
    assert adapter.find_invoice(body) is None
    simulator.state.add_fault("drop_after_create", times=1)
    with pytest.raises(UpstreamError) as lost:
        adapter.create_invoice(body)
    assert lost.value.ambiguous
    found = adapter.find_invoice(body)
    [invoice] = [i for i in simulator.state.invoices() if i.order_id == 2101]
    assert found is not None and found.invoice_id == str(invoice.id) and found.existed
    assert found.invoice_number == invoice.number


def test_every_client_that_is_the_buyer_is_looked_through(adapter: FacturagemUpstream,
                                                          simulator: RunningSimulator) -> None:
    """Two workers in two processes may each have created the new buyer's client."""
    first = simulator.state.create_client(DEMO_ACCOUNT_ID, {"name": "A", "nif": "B12345678"})
    second = simulator.state.create_client(DEMO_ACCOUNT_ID, {"name": "A", "nif": "B12345678"})
    body = payload(adapter, 2201, nif="B12345678")
    simulator.state.create_invoice(DEMO_ACCOUNT_ID, second, {
        "notes": body["invoice"]["notes"], "lines": [
            {"description": "x", "quantity": Decimal(1), "price": Decimal(1),
             "iva_percent": Decimal(0)}]})
    found = adapter.find_invoice(body)
    assert found is not None and adapter.clients.find_or_create(body["client"]) \
        == str(first.id)


def test_a_lost_client_is_not_an_unknown_invoice_and_is_not_created_twice(
        adapter: FacturagemUpstream, simulator: RunningSimulator) -> None:
    adapter.check_credentials()  # logged in: the fault reaches the client, not the login
    simulator.state.configure(faults_on_clients=True)
    simulator.state.add_fault("drop_after_create", times=1)
    body = payload(adapter, 2301)
    with pytest.raises(UpstreamError) as lost:
        adapter.create_invoice(body)
    assert not lost.value.ambiguous  # no invoice was asked for yet
    assert adapter.find_invoice(body) is None
    adapter.create_invoice(body)
    counts = stats(simulator)
    assert counts["clients_created"] == 1 and counts["invoices"] == 1


def test_a_field_facturagem_does_not_allow_fails_loudly_with_the_allowed_ones(
        adapter: FacturagemUpstream) -> None:
    body = payload(adapter, 2401)
    body["invoice"]["discount_percent"] = "5"
    with pytest.raises(UpstreamRejected) as refused:
        adapter.create_invoice(body)
    assert not refused.value.ambiguous
    assert str(refused.value).startswith(
        "HTTP 422: invoice.discount_percent: is not an allowed parameter (allowed parameters:")
    assert "invoice.notes" in str(refused.value)


def test_invalid_data_is_a_readable_rejection(adapter: FacturagemUpstream) -> None:
    body = payload(adapter, 2501)
    body["invoice"]["lines"][0]["iva_percent"] = "121"
    body["invoice"]["lines"][1]["description"] = ""
    with pytest.raises(UpstreamRejected) as refused:
        adapter.create_invoice(body)
    assert str(refused.value) == ("HTTP 422: lines[0].iva_percent: must be between 0 and 100; "
                                  "lines[1].description: can't be blank")
    body = payload(adapter, 2502)
    body["client"]["email"] = "no-at-sign"
    with pytest.raises(UpstreamRejected) as client_refused:
        adapter.create_invoice(body)
    assert str(client_refused.value) == ("HTTP 422: creating the client: email: is not an "
                                         "e-mail address")


def payment_of(adapter: FacturagemUpstream, order_id: int, **changes: Any) -> PaymentRequest:
    ref = adapter.create_invoice(payload(adapter, order_id))
    total = Decimal(build_order(order_id=order_id, currency="EUR", tax_rate=21,
                                billing=BUYER)["total"])
    return replace(PaymentRequest(invoice_id=str(ref.invoice_id), amount=total,
                                  currency="EUR", paid_on=date(2026, 3, 15),
                                  key=f"tienda:{order_id}"), **changes)


def test_a_payment_is_recorded_and_found(adapter: FacturagemUpstream,
                                         simulator: RunningSimulator) -> None:
    payment = payment_of(adapter, 2601)
    assert adapter.find_payment(payment) is None
    recorded = adapter.record_payment(payment)
    found = adapter.find_payment(payment)
    assert found is not None and found.existed and found.reference == recorded.reference
    [invoice] = simulator.state.invoices()
    assert invoice.paid and stats(simulator)["payments_recorded"] == 1


def test_a_partial_payment_is_not_taken_for_ours(adapter: FacturagemUpstream,
                                                 simulator: RunningSimulator) -> None:
    payment = payment_of(adapter, 2701)
    [invoice] = simulator.state.invoices()
    simulator.state.add_payment(invoice, Decimal("1.00"), "2026-03-15")
    assert adapter.find_payment(payment) is None
    with pytest.raises(UpstreamRejected) as refused:  # more than is due
        adapter.record_payment(payment)
    assert "recording the payment: amount: is greater than the amount due" in str(
        refused.value)


def test_a_payment_for_an_invoice_that_is_gone_is_a_rejection(adapter: FacturagemUpstream,
                                                             simulator: RunningSimulator) -> None:
    payment = payment_of(adapter, 2801)
    simulator.state.delete_invoice(simulator.state.invoices()[0])
    with pytest.raises(UpstreamRejected) as refused:
        adapter.find_payment(payment)
    assert refused.value.http_status == 404 and "no longer in FACTURAgem" in str(refused.value)


def test_check_credentials_logs_in_and_reads_the_account(simulator: RunningSimulator) -> None:
    for account_id in ("", DEMO_ACCOUNT_ID):
        upstream = FacturagemUpstream(settings_for(simulator, account_id=account_id))
        assert upstream.check_credentials() == (f"logged in at {simulator.api_url}; account "
                                                f"{DEMO_ACCOUNT_ID} (Demo Shop S.L.)")
        upstream.close()
    counts = stats(simulator)
    assert counts["logins"] == 2 and counts["invoices"] == 0 and counts["clients"] == 0
    wrong = FacturagemUpstream(replace(settings_for(simulator), password="nope"))
    with pytest.raises(UpstreamAuthError):
        wrong.check_credentials()
    foreign = FacturagemUpstream(settings_for(simulator, account_id="2-someone-else"))
    with pytest.raises(UpstreamError) as not_found:
        foreign.check_credentials()
    assert not_found.value.http_status == 404
    assert "account_id '2-someone-else' is not an account of this user" in str(not_found.value)
