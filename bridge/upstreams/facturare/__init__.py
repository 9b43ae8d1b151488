"""facturare.md (api.facturare.md): settings, adapter and the assumptions it shares with its
simulator (``sandbox/facturare``). docs/facturare.md is its page."""

from bridge.upstreams.facturare.adapter import FacturareUpstream
from bridge.upstreams.facturare.settings import FacturareSection
from bridge.upstreams.plugin import UpstreamPlugin

PLUGIN = UpstreamPlugin(kind="facturare", title="facturare.md", section=FacturareSection,
                        build=lambda settings, http: FacturareUpstream(settings, http=http))
