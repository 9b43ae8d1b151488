"""Periodic reconciliation: each shop with a REST API and a ``reconcile_interval`` is walked
for orders modified in the last ``reconcile_window``, so an order whose webhook never came is
picked up within one interval -- by exactly one worker, however many run.

One worker wins each round with a conditional UPDATE of ``shop_state.reconciled_at`` (it
only succeeds if the last round is at least an interval old); the outcome is recorded on the
same row and shown by ``status`` and ``/admin/api/shops``.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import or_, update

from bridge.backfill import backfill
from bridge.clock import Clock
from bridge.config.model import Settings, ShopSettings
from bridge.storage.database import Database
from bridge.storage.models import ShopState
from bridge.storage.repository import insert_ignoring_conflicts

log = logging.getLogger(__name__)

CHECK_EVERY = 30.0


class Reconciler:
    def __init__(self, settings: Settings, db: Database, clock: Clock | None = None) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock or Clock()

    @property
    def shops(self) -> list[ShopSettings]:
        return [shop for shop in self.settings.shops.values()
                if shop.woocommerce is not None and shop.woocommerce.reconcile_interval > 0]

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.run_once()
            stop.wait(CHECK_EVERY)

    def run_once(self) -> dict[str, str]:
        """Reconcile every shop that is due and that this worker wins; returns results."""
        results = {}
        for shop in self.shops:
            if not self._claim(shop):
                continue
            assert shop.woocommerce is not None
            since = self.clock.now() - timedelta(seconds=shop.woocommerce.reconcile_window)
            try:
                report = backfill(self.db, self.settings, shop.id, since)
                result = (f"ok: {report.fetched} orders since {since:%Y-%m-%d %H:%M} UTC, "
                          f"{report.stored} new or changed")
            except Exception as exc:  # recorded for operators; the next round tries again
                log.warning("reconciliation failed", extra={"shop": shop.id, "error": str(exc)})
                result = f"failed: {exc}"[:1000]
            self._record(shop, result)
            results[shop.id] = result
        return results

    def _claim(self, shop: ShopSettings) -> bool:
        assert shop.woocommerce is not None
        now = self.clock.now()
        due_before = now - timedelta(seconds=shop.woocommerce.reconcile_interval)
        with self.db.transaction() as session:
            insert_ignoring_conflicts(session, ShopState,
                                      {"shop": shop.id, "paused": False, "updated_at": now},
                                      ["shop"])
            won = session.execute(
                update(ShopState)
                .where(ShopState.shop == shop.id, or_(ShopState.reconciled_at.is_(None),
                                                      ShopState.reconciled_at <= due_before))
                .values(reconciled_at=now)
                .returning(ShopState.shop)
                .execution_options(synchronize_session=False)).first()
        return won is not None

    def _record(self, shop: ShopSettings, result: str) -> None:
        with self.db.transaction() as session:
            session.execute(update(ShopState).where(ShopState.shop == shop.id)
                            .values(reconcile_result=result)
                            .execution_options(synchronize_session=False))
