"""``invoice-bridge demo``: the whole path on one machine, in a few seconds.

It starts the e-Cont.md simulator and the embedded bridge (SQLite), delivers sample orders
signed and encoded exactly as WooCommerce does -- plus the awkward cases a real shop sends
(repeats, a late stale snapshot, a checkout draft, an order that cannot be invoiced, a forged
request) -- waits for the worker, and prints the sync table and the invoices the simulator
holds. Exit status 0 means every invoiceable order became exactly one invoice whose items
add up to its amount.

With write-back (the default; ``--no-write-back`` leaves it out) the orders live in the
WooCommerce REST simulator, which announces them itself -- signed webhooks, the order as the
shop stores it -- and the demo shop has ``write_back = true``: the bridge writes each
order's invoice, or why it has none, back to the order as a note and ``_invoice_bridge_*``
meta, and the shop's ``order.updated`` echo of that write is recognised and changes nothing.
The demo prints what each order shows in the shop; exit status 0 then also means every
invoiced order has exactly one invoice note and its meta, and every order that stopped
without an invoice a note with the reason.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select

from bridge.config.load import load_settings
from bridge.embedded import EmbeddedService
from bridge.logs import configure_logging
from bridge.storage.models import Delivery, OrderSync, OrderWriteBack
from bridge.storage.states import (
    DUE_STATES,
    DUE_WRITEBACK_STATES,
    WRITTEN_BACK_STATES,
    SyncState,
    WriteBackState,
)
from bridge.upstreams.registry import PLUGINS
from bridge.writeback import text
from sandbox.config import bridge_config, merge, write_config
from sandbox.contract import SimulatedInvoice
from sandbox.upstreams import SANDBOXES
from sandbox.woocommerce.rest_simulator import (
    DEMO_CONSUMER_KEY,
    DEMO_CONSUMER_SECRET,
    RestSimulatorState,
    RunningRestSimulator,
    run_rest_simulator,
)
from sandbox.woocommerce.rest_simulator.webhooks import ShopWebhooks
from sandbox.woocommerce.samples import DEFAULT_CREATED, Billing, build_order, sample_orders
from sandbox.woocommerce.sender import DeliveryResult, WooCommerceWebhook

SHOP = "demo-shop"
SECRET = "demo_webhook_secret_0123"  # noqa: S105 - the demo's own throwaway shop


def demo_config(upstream: dict[str, Any], shop_url: str | None = None) -> dict[str, Any]:
    """The demo's bridge: SQLite and the spool beside the file, one shop on the simulator
    whose ``[shops.upstream]`` section is ``upstream``; with ``shop_url`` (the WooCommerce
    REST simulator) it writes back to that shop."""
    config = merge(bridge_config(upstream, webhook_secret=SECRET, shop_id=SHOP),
                   {"dispatch": {"poll_interval": "100ms"}})
    if shop_url is None:
        return config
    return merge(config, {"shops": [{"woocommerce": {
        "url": shop_url, "consumer_key": DEMO_CONSUMER_KEY,
        "consumer_secret": DEMO_CONSUMER_SECRET, "write_back": True, "write_rate": 20}}]})


class _Shop:
    """Where the demo's orders come from: the REST simulator announcing its own orders, or
    (without write-back) the sender alone."""

    def __init__(self, hook: WooCommerceWebhook, shop: RunningRestSimulator | None) -> None:
        self.hook = hook
        self.webhooks = ShopWebhooks(shop.state, hook).start() if shop is not None else None

    def send(self, topic: str, order: dict[str, Any]) -> DeliveryResult:
        if self.webhooks is None:
            return self.hook.deliver(topic, order)
        self.webhooks.state.put_order(order)  # placed in the shop, which announces it
        return self.webhooks.deliver(topic, int(order["id"]))

    def stop(self) -> None:
        if self.webhooks is not None:
            self.webhooks.stop()


def run_demo(directory: str | None = None, upstream: str = "econt", *,
             write_back: bool = True) -> int:
    workdir = Path(directory or tempfile.mkdtemp(prefix="invoice-bridge-demo-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    configure_logging("text", "WARNING")
    sandbox = SANDBOXES[upstream]
    shop = run_rest_simulator(state=RestSimulatorState(ssl=False)) if write_back else None
    try:
        with sandbox.start() as simulator:
            config = write_config(workdir / "config.toml",
                                  demo_config(simulator.upstream_section(),
                                              shop.url if shop is not None else None),
                                  comment="Written by `invoice-bridge demo`.")
            settings = load_settings(config)
            with EmbeddedService(settings, host="127.0.0.1", port=0) as service:
                _say(f"{sandbox.title} simulator at {simulator.url}; bridge at {service.url}; "
                     f"files in {workdir}")
                if shop is not None:
                    _say(f"WooCommerce REST simulator (the shop) at {shop.url}; write-back on")
                hook = WooCommerceWebhook(
                    delivery_url=f"{service.url}/webhooks/woocommerce/{SHOP}", secret=SECRET,
                    source="https://demo-shop.example/")
                source = _Shop(hook, shop)
                try:
                    expected = _deliver(hook, source)
                    _wait_until_settled(service)
                    if source.webhooks is not None:
                        _wait_until_written_back(service, source.webhooks)
                    rows = _rows(service)
                    echoes = _echoes(service)
                finally:
                    source.stop()
            invoices = simulator.invoices()
    finally:
        if shop is not None:
            shop.stop()
    _print_rows(rows, sandbox.title)
    ok = _print_invoices(invoices, expected, sandbox.title)
    if shop is not None:
        ok &= _print_written_back(rows, shop.state, echoes)
    click.echo(f"\nThe database and config stay in {workdir}.")
    return 0 if ok else 1


def _deliver(hook: WooCommerceWebhook, shop: _Shop) -> set[int]:
    """Send what a shop sends; returns the order ids that must end up invoiced."""
    result = hook.ping()
    _say(f"ping (webhook_id={hook.webhook_id}) -> HTTP {result.status_code}")
    orders = sample_orders()
    for order in orders:
        _send(shop, "order.created", order)
        _send(shop, "order.updated", order, note="same snapshot again: no second invoice")
    newer = build_order(order_id=2007, date_modified_gmt=DEFAULT_CREATED + timedelta(minutes=9),
                        customer_note="Newest snapshot")
    older = build_order(order_id=2007, date_modified_gmt=DEFAULT_CREATED + timedelta(minutes=1),
                        customer_note="Stale snapshot, delivered late")
    _send(shop, "order.updated", newer)
    # an older snapshot the shop queued before: not what it stores now
    _show("order.updated", older, hook.deliver("order.updated", older),
          note="older than the one already stored: ignored")
    _send(shop, "order.updated", build_order(order_id=2008, status="checkout-draft"),
          note="checkout draft: ignored")
    _send(shop, "order.created", build_order(order_id=2009, status="pending"),
          note="awaiting payment: skipped")
    _send(shop, "order.created", build_order(order_id=2010, billing=Billing(email="")),
          note="no e-mail: invalid where the service needs one; acknowledged either way")
    forged = hook.build("order.created", build_order(order_id=2011), signature="Zm9yZ2Vk")
    from sandbox.woocommerce.sender import send_prepared

    result = send_prepared(forged)
    _say(f"forged signature -> HTTP {result.status_code} (nothing stored)")
    return {int(order["id"]) for order in orders} | {2007}


def _send(shop: _Shop, topic: str, order: dict[str, Any], note: str = "") -> None:
    _show(topic, order, shop.send(topic, order), note=note)


def _show(topic: str, order: dict[str, Any], result: DeliveryResult, note: str = "") -> None:
    suffix = f"  ({note})" if note else ""
    _say(f"{topic:14} order {order['id']} -> HTTP {result.status_code}{suffix}")


def _wait_until_settled(service: EmbeddedService, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with service.db.read() as session:
            waiting = session.execute(select(func.count()).select_from(Delivery)
                                      .where(Delivery.status == "received")).scalar_one()
            due = session.execute(select(func.count()).select_from(OrderSync).where(
                OrderSync.state.in_((*DUE_STATES, SyncState.SENDING)))).scalar_one()
        if not waiting and not due:
            return
        time.sleep(0.1)
    raise click.ClickException(f"the worker did not settle within {timeout:g}s")


def _wait_until_written_back(service: EmbeddedService, webhooks: ShopWebhooks,
                             timeout: float = 30.0) -> None:
    """Until every settled order's write-back is over and the shop's echoes of it were
    processed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with service.db.read() as session:
            settled = session.execute(select(func.count()).select_from(OrderSync).where(
                OrderSync.state.in_(WRITTEN_BACK_STATES))).scalar_one()
            over = session.execute(select(func.count()).select_from(OrderWriteBack).where(
                OrderWriteBack.state.in_((WriteBackState.DONE, WriteBackState.FAILED)))
            ).scalar_one()
            busy = session.execute(select(func.count()).select_from(OrderWriteBack).where(
                OrderWriteBack.state.in_((*DUE_WRITEBACK_STATES, WriteBackState.SENDING)))
            ).scalar_one()
        if over >= settled and not busy:
            webhooks.wait_idle(max(0.1, deadline - time.monotonic()))
            _wait_until_settled(service, max(0.1, deadline - time.monotonic()))
            return
        time.sleep(0.1)
    raise click.ClickException(f"the write-back did not finish within {timeout:g}s")


def _echoes(service: EmbeddedService) -> Counter[str]:
    """What became of the deliveries that carried the bridge's own meta: the shop's echoes
    of its write-back (each should be ``echo``: nothing applied, nothing sent)."""
    with service.db.read() as session:
        found = session.execute(select(Delivery.outcome, Delivery.body)).all()
    return Counter(str(outcome) for outcome, body in found
                   if text.META_PREFIX.encode() in bytes(body))


def _rows(service: EmbeddedService) -> list[OrderSync]:
    with service.db.read() as session:
        return list(session.execute(select(OrderSync).order_by(OrderSync.order_id)).scalars())


def _print_rows(rows: list[OrderSync], title: str) -> None:
    click.echo(f"\nSync table (shop order -> {title} invoice):")
    click.echo(f"  {'order':>6}  {'state':8}  {'invoice id':32}  {'tries':>5}  note")
    for row in rows:
        note = (row.last_error or "")[:70]
        click.echo(f"  {row.order_id:>6}  {row.state:8}  {row.invoice_id or '-':32}  "
                   f"{row.attempts:>5}  {note}")


def _print_invoices(invoices: list[SimulatedInvoice], expected: set[int], title: str) -> bool:
    click.echo(f"\nInvoices in the {title} simulator:")
    click.echo(f"  {'number':12}  {'order':>6}  {'amount':>12}  {'lines':>5}  lines add up")
    ok = True
    per_order: dict[int, int] = {}
    for invoice in invoices:
        adds_up = invoice.lines_total == invoice.total
        ok &= adds_up
        per_order[invoice.order_id] = per_order.get(invoice.order_id, 0) + 1
        click.echo(f"  {invoice.number or invoice.invoice_id:12}  {invoice.order_id:>6}  "
                   f"{invoice.total!s:>8} {invoice.currency}  {invoice.lines:>5}  "
                   f"{'yes' if adds_up else 'NO'}")
    missing = expected - set(per_order)
    doubled = {order for order, count in per_order.items() if count > 1}
    if missing or doubled:
        ok = False
    click.echo(f"\n{len(per_order)} orders invoiced, {len(missing)} missing, "
               f"{len(doubled)} invoiced twice.")
    return ok


def _print_written_back(rows: list[OrderSync], shop: RestSimulatorState,
                        echoes: Counter[str]) -> bool:
    """What each order shows in the shop: its notes and ``_invoice_bridge_*`` meta. True if
    every invoiced order has exactly one invoice note and its meta, and every other one a
    note with the reason."""
    click.echo("\nWritten back to the shop (notes and _invoice_bridge_* meta on each order):")
    click.echo(f"  {'order':>6}  {'state':8}  {'notes':>5}  meta {text.STATE_META} / "
               f"invoice number  ok   note (newest)")
    ok, invoiced, with_reason, wrong = True, 0, 0, []
    for row in rows:
        notes = [str(note["note"]) for note in shop.notes(row.order_id)]
        order = shop.order(row.order_id) or {}
        meta = {str(entry.get("key")): str(entry.get("value"))
                for entry in order.get("meta_data") or [] if isinstance(entry, dict)}
        if row.state == SyncState.SYNCED:
            invoice_notes = [note for note in notes if note.startswith("Invoice ")
                             and (row.invoice_number or row.invoice_id or "") in note]
            good = (len(notes) == 1 and len(invoice_notes) == 1
                    and meta.get(text.STATE_META) == SyncState.SYNCED
                    and meta.get(text.INVOICE_ID_META) == row.invoice_id)
            invoiced += good
        else:
            plugin = PLUGINS.get(row.upstream)
            wanted = text.for_row(row, service=plugin.title if plugin else row.upstream,
                                  invoice_url=None, customer_note=False)
            good = (len(notes) == 1 and text.same_note(notes[0], wanted.note)
                    and meta.get(text.STATE_META) == row.state)
            with_reason += good
        if not good:
            ok = False
            wrong.append(row.order_id)
        number = meta.get(text.INVOICE_NUMBER_META) or "-"
        click.echo(f"  {row.order_id:>6}  {row.state:8}  {len(notes):>5}  "
                   f"{meta.get(text.STATE_META, '-'):8} / {number:14}  "
                   f"{'yes' if good else 'NO':3}  {(notes[0] if notes else '-')[:90]}")
    recognised = echoes.get("echo", 0)
    click.echo(f"\n{invoiced} orders show their invoice (one note, meta), {with_reason} show "
               f"why they have none, {len(wrong)} wrong{f' {wrong}' if wrong else ''}; "
               f"{recognised} of the shop's {sum(echoes.values())} echoes of the write-back "
               "recognised (nothing applied, nothing sent again).")
    return ok and recognised == sum(echoes.values())


def _say(message: str) -> None:
    click.echo(f"- {message}")
