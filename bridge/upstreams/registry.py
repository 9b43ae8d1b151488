"""Every invoicing service the bridge can talk to, by ``kind``, and the adapters of the
configured shops.

Adding a service means a new package ``bridge/upstreams/<name>/`` defining ``PLUGIN`` (its
settings section, adapter and assumptions; docs/<name>.md), its simulator under ``sandbox/``,
one line in ``PLUGINS`` below and one line in the contract suite (tests/contract/).
"""

from __future__ import annotations

from collections.abc import Mapping

from bridge.config.model import Settings
from bridge.upstreams import econt, facturagem, facturare, fakturoid
from bridge.upstreams.http import HttpClient
from bridge.upstreams.plugin import UpstreamPlugin
from bridge.upstreams.port import InvoiceUpstream

PLUGINS: Mapping[str, UpstreamPlugin] = {plugin.kind: plugin for plugin in (
    econt.PLUGIN,
    facturagem.PLUGIN,
    facturare.PLUGIN,
    fakturoid.PLUGIN,
)}


class UpstreamRegistry:
    """One adapter per shop, sharing one HTTP client (and so its connection pools)."""

    def __init__(self, settings: Settings,
                 overrides: Mapping[str, InvoiceUpstream] | None = None) -> None:
        dispatch = settings.dispatch
        self.http = HttpClient(connect_timeout=dispatch.connect_timeout,
                               read_timeout=dispatch.read_timeout,
                               pool_size=max(10, dispatch.concurrency))
        self._by_shop: dict[str, InvoiceUpstream] = {}
        for shop in settings.shops.values():
            if overrides and shop.id in overrides:
                self._by_shop[shop.id] = overrides[shop.id]
            else:
                self._by_shop[shop.id] = PLUGINS[shop.upstream.kind].build(shop.upstream,
                                                                           self.http)

    def for_shop(self, shop_id: str) -> InvoiceUpstream:
        return self._by_shop[shop_id]

    def close(self) -> None:
        for upstream in self._by_shop.values():
            upstream.close()
        self.http.close()
