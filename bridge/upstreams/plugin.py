"""``UpstreamPlugin``: what an invoicing service contributes to the bridge.

Each service's package (``bridge/upstreams/<name>/``) defines one ``PLUGIN`` in its
``__init__``: the ``kind`` shops choose it by, the schema of its ``[shops.upstream]`` section,
and how to build its adapter. ``bridge.upstreams.registry`` lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bridge.upstreams.http import HttpClient
from bridge.upstreams.port import InvoiceUpstream
from bridge.upstreams.settings import UpstreamSection


@dataclass(frozen=True)
class UpstreamPlugin:
    #: what ``[shops.upstream] kind`` says ("econt")
    kind: str
    #: the service's name for people ("e-Cont.md")
    title: str
    #: the schema of its ``[shops.upstream]`` section (builds its settings dataclass)
    section: type[UpstreamSection]
    #: the adapter for one shop's settings, on a shared HTTP client
    build: Callable[[Any, HttpClient], InvoiceUpstream]
