"""FACTURAgem (facturagem.com, API v1): settings, session, adapter and the assumptions it
shares with its simulator (``sandbox/facturagem``). docs/facturagem.md is its page."""

from bridge.upstreams.facturagem.adapter import FacturagemUpstream
from bridge.upstreams.facturagem.settings import FacturagemSection
from bridge.upstreams.plugin import UpstreamPlugin

PLUGIN = UpstreamPlugin(kind="facturagem", title="FACTURAgem", section=FacturagemSection,
                        build=lambda settings, http: FacturagemUpstream(settings, http=http))
