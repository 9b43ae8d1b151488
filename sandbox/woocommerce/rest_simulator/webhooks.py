"""The shop's ``order.updated`` webhook for saves made through its REST API, delivered to a
receiver like a real shop delivers it: signed, PHP-encoded, after the request that saved the
order has answered (Action Scheduler runs deliveries asynchronously; docs/woocommerce.md
section 1.1), with the order as the REST API shows it at delivery time. This is what a
bridge writing back to the order hears about its own write.

``deliver(topic, order_id)`` sends one delivery of an order as the shop stores it now,
synchronously (the demo and the fault suite place orders in the shop and let it announce
them; a real shop queues them the same way, see above)."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any

from sandbox.woocommerce.rest_simulator.state import RestSimulatorState
from sandbox.woocommerce.sender import DeliveryResult, WooCommerceWebhook


@dataclass
class ShopWebhooks:
    """Delivers ``order.updated`` for every REST save of ``state`` through ``hook``."""

    state: RestSimulatorState
    hook: WooCommerceWebhook
    #: (order id, HTTP status of the delivery; 0 when it could not be sent)
    delivered: list[tuple[int, int]] = field(default_factory=list)
    _queue: queue.Queue[int | None] = field(default_factory=queue.Queue)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> ShopWebhooks:
        self.state.on_save.append(self._saved)
        self._thread = threading.Thread(target=self._run, name="shop-webhooks", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._saved in self.state.on_save:
            self.state.on_save.remove(self._saved)
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Until every queued delivery was sent (tests, demo); False on timeout."""
        done = threading.Event()
        self._idle = done  # before the marker is queued: the sender may reach it at once
        self._queue.put(-1)
        return done.wait(timeout)

    def deliver(self, topic: str, order_id: int) -> DeliveryResult:
        """One ``topic`` delivery of the order as the shop stores it now, sent at once (not
        counted in ``delivered``, which holds the deliveries of REST saves)."""
        order = self.state.order(order_id)
        if order is None:
            raise KeyError(f"order {order_id} is not in the shop")
        return self.hook.deliver(topic, order)

    def count(self) -> int:
        with self._lock:
            return len(self.delivered)

    def _saved(self, order: dict[str, Any]) -> None:
        self._queue.put(int(order["id"]))

    def _run(self) -> None:
        while True:
            order_id = self._queue.get()
            if order_id is None:
                return
            if order_id == -1:
                self._idle.set()
                continue
            order = self.state.order(order_id)  # built at delivery time, like WooCommerce
            if order is None:
                continue
            try:
                result = self.hook.deliver("order.updated", order)
                status = result.status_code
            except OSError:
                status = 0
            with self._lock:
                self.delivered.append((order_id, status))

    _idle: threading.Event = field(default_factory=threading.Event)
