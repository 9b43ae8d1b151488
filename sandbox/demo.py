"""``invoice-bridge demo``: the whole path on one machine, in a few seconds.

It starts the e-Cont.md simulator and the embedded bridge (SQLite), delivers sample orders
signed and encoded exactly as WooCommerce does -- plus the awkward cases a real shop sends
(repeats, a late stale snapshot, a checkout draft, an order that cannot be invoiced, a forged
request) -- waits for the worker, and prints the sync table and the invoices the simulator
holds. Exit status 0 means every invoiceable order became exactly one invoice whose items
add up to its amount.
"""

from __future__ import annotations

import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select

from bridge.config.load import load_settings
from bridge.embedded import EmbeddedService
from bridge.logs import configure_logging
from bridge.storage.models import Delivery, OrderSync
from bridge.storage.states import DUE_STATES, SyncState
from sandbox.config import bridge_config, merge, write_config
from sandbox.contract import SimulatedInvoice
from sandbox.upstreams import SANDBOXES
from sandbox.woocommerce.samples import DEFAULT_CREATED, Billing, build_order, sample_orders
from sandbox.woocommerce.sender import WooCommerceWebhook

SHOP = "demo-shop"
SECRET = "demo_webhook_secret_0123"  # noqa: S105 - the demo's own throwaway shop


def demo_config(upstream: dict[str, Any]) -> dict[str, Any]:
    """The demo's bridge: SQLite and the spool beside the file, one shop on the simulator
    whose ``[shops.upstream]`` section is ``upstream``."""
    return merge(bridge_config(upstream, webhook_secret=SECRET, shop_id=SHOP),
                 {"dispatch": {"poll_interval": "100ms"}})


def run_demo(directory: str | None = None, upstream: str = "econt") -> int:
    workdir = Path(directory or tempfile.mkdtemp(prefix="invoice-bridge-demo-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    configure_logging("text", "WARNING")
    sandbox = SANDBOXES[upstream]
    with sandbox.start() as simulator:
        config = write_config(workdir / "config.toml", demo_config(simulator.upstream_section()),
                              comment="Written by `invoice-bridge demo`.")
        settings = load_settings(config)
        with EmbeddedService(settings, host="127.0.0.1", port=0) as service:
            _say(f"{sandbox.title} simulator at {simulator.url}; bridge at {service.url}; "
                 f"files in {workdir}")
            hook = WooCommerceWebhook(
                delivery_url=f"{service.url}/webhooks/woocommerce/{SHOP}", secret=SECRET,
                source="https://demo-shop.example/")
            expected = _deliver(hook)
            _wait_until_settled(service)
            rows = _rows(service)
        invoices = simulator.invoices()
    _print_rows(rows, sandbox.title)
    ok = _print_invoices(invoices, expected, sandbox.title)
    click.echo(f"\nThe database and config stay in {workdir}.")
    return 0 if ok else 1


def _deliver(hook: WooCommerceWebhook) -> set[int]:
    """Send what a shop sends; returns the order ids that must end up invoiced."""
    result = hook.ping()
    _say(f"ping (webhook_id={hook.webhook_id}) -> HTTP {result.status_code}")
    orders = sample_orders()
    for order in orders:
        _send(hook, "order.created", order)
        _send(hook, "order.updated", order, note="same snapshot again: no second invoice")
    newer = build_order(order_id=2007, date_modified_gmt=DEFAULT_CREATED + timedelta(minutes=9),
                        customer_note="Newest snapshot")
    older = build_order(order_id=2007, date_modified_gmt=DEFAULT_CREATED + timedelta(minutes=1),
                        customer_note="Stale snapshot, delivered late")
    _send(hook, "order.updated", newer)
    _send(hook, "order.updated", older, note="older than the one already stored: ignored")
    _send(hook, "order.updated", build_order(order_id=2008, status="checkout-draft"),
          note="checkout draft: ignored")
    _send(hook, "order.created", build_order(order_id=2009, status="pending"),
          note="awaiting payment: skipped")
    _send(hook, "order.created", build_order(order_id=2010, billing=Billing(email="")),
          note="no e-mail: invalid where the service needs one; acknowledged either way")
    forged = hook.build("order.created", build_order(order_id=2011), signature="Zm9yZ2Vk")
    from sandbox.woocommerce.sender import send_prepared

    result = send_prepared(forged)
    _say(f"forged signature -> HTTP {result.status_code} (nothing stored)")
    return {int(order["id"]) for order in orders} | {2007}


def _send(hook: WooCommerceWebhook, topic: str, order: dict[str, Any], note: str = "") -> None:
    result = hook.deliver(topic, order)
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


def _say(message: str) -> None:
    click.echo(f"- {message}")
