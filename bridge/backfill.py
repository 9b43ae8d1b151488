"""Recover orders WooCommerce never delivered: pull them from the shop's REST API and feed
them into the same intake as the webhooks.

WooCommerce never retries a failed webhook and disables a webhook after repeated failures,
so a shop's REST API is the only way back to orders missed while the bridge was down or the
webhook was disabled. Each fetched order becomes a delivery (``source = "backfill"``) and is
processed exactly like a webhook: the newest snapshot wins, an unchanged one is a no-op. Only
orders newer than the snapshot we hold are stored, so walking the same window again costs
one request per page and no database growth.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from bridge.config.model import Settings
from bridge.errors import MappingError, RefusalKind, Refused
from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.mapping.woocommerce import read_snapshot_header
from bridge.storage.database import Database
from bridge.storage.models import OrderSync
from bridge.woocommerce.php_json import php_json_encode
from bridge.woocommerce.rest import OrdersPage, WooRestClient

log = logging.getLogger(__name__)

#: marks backfilled deliveries among the stored headers
SOURCE_HEADER = "X-Invoice-Bridge-Source"


@dataclass
class BackfillReport:
    pages: int = 0
    fetched: int = 0
    stored: int = 0
    up_to_date: int = 0
    drafts: int = 0


def backfill(db: Database, settings: Settings, shop_id: str, since: datetime,
             until: datetime | None = None, *, client: WooRestClient | None = None,
             on_page: Callable[[OrdersPage], None] | None = None) -> BackfillReport:
    shop = settings.shop(shop_id)
    if shop is None:
        raise Refused("unknown_shop", f"no shop {shop_id[:80]!r} is configured",
                      RefusalKind.NOT_FOUND)
    if shop.woocommerce is None and client is None:
        # a configuration the command cannot work with: "invalid configuration" (exit 2)
        raise Refused("no_rest_api", f"shop {shop_id!r} has no [shops.woocommerce] REST API "
                      "settings", RefusalKind.INVALID)
    assert shop.woocommerce is not None or client is not None
    client = client or WooRestClient(shop.woocommerce)  # type: ignore[arg-type]
    store = DeliveryStore(db, Spool(settings.server.spool_dir))
    report = BackfillReport()
    for page in client.iter_orders(since, modified_before=until):
        report.pages += 1
        report.fetched += len(page.orders)
        known = _known_snapshots(db, shop_id, page.orders)
        for order in page.orders:
            try:
                header = read_snapshot_header(order)
            except MappingError:
                header = None  # stored anyway: processing records why it is unusable
            if header is not None and header.status == "checkout-draft":
                report.drafts += 1
                continue
            if header is not None and header.modified_at is not None:
                have = known.get(header.order_id)
                if have is not None and header.modified_at <= have:
                    report.up_to_date += 1
                    continue
            store.store(IncomingDelivery(
                shop=shop_id, body=php_json_encode(order), topic="order.updated",
                source="backfill", headers={SOURCE_HEADER: "backfill"}))
            report.stored += 1
        if on_page is not None:
            on_page(page)
    log.info("backfill finished", extra={"shop": shop_id, "since": since.isoformat(),
                                         "pages": report.pages, "fetched": report.fetched,
                                         "stored": report.stored})
    return report


def _known_snapshots(db: Database, shop_id: str,
                     orders: list[dict[str, Any]]) -> dict[int, datetime]:
    ids = [o["id"] for o in orders
           if isinstance(o.get("id"), int) and not isinstance(o["id"], bool)]
    if not ids:
        return {}
    with db.read() as session:
        rows = session.execute(select(OrderSync.order_id, OrderSync.snapshot_modified_at).where(
            OrderSync.shop == shop_id, OrderSync.order_id.in_(ids)))
        return {order_id: modified for order_id, modified in rows if modified is not None}
