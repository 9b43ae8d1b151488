"""Fakturoid (app.fakturoid.cz, API v3): settings, OAuth token, adapter and the assumptions
it shares with its simulator (``sandbox/fakturoid``). docs/fakturoid.md is its page."""

from bridge.upstreams.fakturoid.adapter import FakturoidUpstream
from bridge.upstreams.fakturoid.settings import FakturoidSection
from bridge.upstreams.plugin import UpstreamPlugin

PLUGIN = UpstreamPlugin(kind="fakturoid", title="Fakturoid", section=FakturoidSection,
                        build=lambda settings, http: FakturoidUpstream(settings, http=http))
