"""Upstream invoicing services: one adapter per service behind ``InvoiceUpstream``.

``build_upstream(shop_settings)`` returns the adapter a shop is configured for. Adding a
service (Fakturoid, FACTURAgem, facturare.md) means a new sub-package with an adapter, its
simulator and its assumptions, and one line in ``_BUILDERS``. Its adapter says what the
service's own error body looks like and leaves the rest to ``failures.failure_from_answer``
(which answers prove nothing was created).
"""

from __future__ import annotations

from collections.abc import Callable

from bridge.config import DispatchSettings, EcontSettings, Settings
from bridge.upstreams.base import InvoiceRef, InvoiceUpstream
from bridge.upstreams.http import HttpClient

__all__ = ["InvoiceRef", "InvoiceUpstream", "UpstreamRegistry", "build_upstream"]


def _econt(settings: EcontSettings, http: HttpClient,
           dispatch: DispatchSettings) -> InvoiceUpstream:
    from bridge.upstreams.econt.adapter import EcontUpstream

    return EcontUpstream(settings, http=http, dispatch=dispatch)


_BUILDERS: dict[str, Callable[[EcontSettings, HttpClient, DispatchSettings], InvoiceUpstream]] = {
    "econt": _econt,
}


def build_upstream(settings: EcontSettings, http: HttpClient,
                   dispatch: DispatchSettings) -> InvoiceUpstream:
    return _BUILDERS[settings.kind](settings, http, dispatch)


class UpstreamRegistry:
    """One adapter per shop, sharing one HTTP client (and so its connection pools)."""

    def __init__(self, settings: Settings,
                 overrides: dict[str, InvoiceUpstream] | None = None) -> None:
        dispatch = settings.dispatch
        self.http = HttpClient(connect_timeout=dispatch.connect_timeout,
                               read_timeout=dispatch.read_timeout,
                               pool_size=max(10, dispatch.concurrency))
        self._by_shop: dict[str, InvoiceUpstream] = {}
        for shop in settings.shops.values():
            if overrides and shop.id in overrides:
                self._by_shop[shop.id] = overrides[shop.id]
            else:
                self._by_shop[shop.id] = build_upstream(shop.upstream, self.http, dispatch)

    def for_shop(self, shop_id: str) -> InvoiceUpstream:
        return self._by_shop[shop_id]

    def close(self) -> None:
        for upstream in self._by_shop.values():
            upstream.close()
        self.http.close()
