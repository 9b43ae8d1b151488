"""Every upstream's stand-in in the sandbox, by kind (``UpstreamSandbox``): the demo
(``invoice-bridge demo --upstream KIND``), the fault suite and ``invoice-bridge sandbox KIND``
read this list. A new upstream joins with one line."""

from __future__ import annotations

from collections.abc import Mapping

from sandbox.contract import UpstreamSandbox
from sandbox.econt.service import ECONT_SANDBOX
from sandbox.facturagem.service import FACTURAGEM_SANDBOX
from sandbox.facturare.service import FACTURARE_SANDBOX
from sandbox.fakturoid.service import FAKTUROID_SANDBOX

SANDBOXES: Mapping[str, UpstreamSandbox] = {upstream.kind: upstream for upstream in (
    ECONT_SANDBOX,
    FACTURAGEM_SANDBOX,
    FACTURARE_SANDBOX,
    FAKTUROID_SANDBOX,
)}
