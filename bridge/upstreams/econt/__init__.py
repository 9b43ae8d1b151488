"""e-Cont.md (api.diginet.md): settings, adapter and the assumptions it shares with its
simulator (``sandbox/econt``). docs/econt.md is its page."""

from bridge.upstreams.econt.adapter import EcontUpstream
from bridge.upstreams.econt.settings import EcontSection
from bridge.upstreams.plugin import UpstreamPlugin

PLUGIN = UpstreamPlugin(kind="econt", title="e-Cont.md", section=EcontSection,
                        build=lambda settings, http: EcontUpstream(settings, http=http))
