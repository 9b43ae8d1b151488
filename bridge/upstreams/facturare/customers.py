"""Finding or creating the customer an invoice is for.

An invoice needs a customer id ([ASSUMPTION], as in Invoiced). The rendered customer carries
a digest of its details in ``metadata[invoice_bridge_customer]`` (render.py), so the adapter
asks ``GET /customers?metadata[invoice_bridge_customer]=...`` first and creates the customer
only when none matches: a repeat buyer with the same details keeps one customer, a lost
answer to a create is found the next time, and a buyer whose details changed gets a new
customer rather than an invoice under the old ones.

Two dispatch threads of one process sending orders of the same buyer take turns (a lock per
digest), so they do not both create it. Worker processes do not share that lock: at worst a
buyer gets two customers, never an invoice twice; the oldest is used from then on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from bridge.errors import UpstreamError, UpstreamRejected
from bridge.upstreams.facturare import assumptions as facturare
from bridge.upstreams.facturare.api import FacturareApi, nothing_created, oldest


class KeyedLocks:
    """A lock per key, kept only while someone holds or waits for it (bounded by the
    number of threads, whatever the number of keys)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, list[int]]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.setdefault(key, (threading.Lock(), [0]))
            users[0] += 1
        try:
            with lock:
                yield
        finally:
            with self._guard:
                users[0] -= 1
                if users[0] == 0:
                    del self._locks[key]

    def __len__(self) -> int:
        with self._guard:
            return len(self._locks)


class Customers:
    def __init__(self, api: FacturareApi) -> None:
        self.api = api
        self._locks = KeyedLocks()

    def customer_id(self, customer: Mapping[str, Any]) -> int | str:
        """The id of the customer matching ``customer`` (rendered), created if there is
        none. Every failure says "customer" and is not ambiguous: no invoice was sent."""
        key = _digest(customer)
        try:
            with self._locks.hold(key):
                return self._find(key) or self._create(customer)
        except UpstreamError as exc:
            raise nothing_created(exc, "customer") from None

    def _find(self, key: str) -> int | str | None:
        found = self.api.list(facturare.CUSTOMERS_PATH,
                              {facturare.METADATA_PARAM.format(facturare.CUSTOMER_KEY): key})
        first = oldest(found)
        return _wire_id(first) if first is not None else None

    def _create(self, customer: Mapping[str, Any]) -> int | str:
        created, _ = self.api.create(facturare.CUSTOMERS_PATH, customer)
        return _wire_id(created)


def _digest(customer: Mapping[str, Any]) -> str:
    metadata = customer.get("metadata")
    key = metadata.get(facturare.CUSTOMER_KEY) if isinstance(metadata, Mapping) else None
    if not isinstance(key, str) or not key:
        # every payload render.py makes has one; an old or hand-edited one may not
        raise UpstreamRejected(f"the stored request has no customer "
                                  f"metadata.{facturare.CUSTOMER_KEY}; resync the order")
    return key


def _wire_id(obj: Mapping[str, Any]) -> int | str:
    """The id as the service wrote it (an integer, [ASSUMPTION]), to send back unchanged."""
    value = obj[facturare.ID_FIELD]
    return value if isinstance(value, int) else str(value)
