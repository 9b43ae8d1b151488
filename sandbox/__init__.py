"""The sandbox: stand-ins for the world around invoice-bridge, for trying it out and testing.

Shipped in the same distribution as the product (``pip install .`` gives ``invoice-bridge demo``
and ``invoice-bridge sandbox ...``), but never imported by it: ``bridge/`` and ``webhooks/``
stand on their own, and a test checks that they do.

- ``sandbox.econt``: a simulator of the e-Cont.md API, strict to its documentation, with
  fault switches (5xx, 429, resets, slow answers, gateway pages, ...);
- ``sandbox.woocommerce``: a webhook sender that signs and encodes exactly as WooCommerce does,
  sample orders, and a simulator of the WooCommerce REST API;
- ``sandbox.memory``: an in-memory invoicing service for tests that need no network;
- ``sandbox.config``: the configuration file of a local bridge (tests, benchmarks, the demo);
- ``sandbox.demo``: the whole path on one machine (``invoice-bridge demo``);
- ``sandbox.cli``: the ``demo`` and ``sandbox`` commands, plugged into ``invoice-bridge``
  through the ``invoice_bridge.commands`` entry point.
"""
