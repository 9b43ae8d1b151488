"""invoice-bridge: WooCommerce order webhooks in, e-invoices out.

The package is organised by stage of the pipeline:

- ``webhooks`` (top-level package): the HTTP receiver WooCommerce posts to;
- ``bridge.intake``: stores deliveries and turns them into sync rows;
- ``bridge.mapping``: WooCommerce order -> upstream-neutral invoice draft;
- ``bridge.storage``: tables, engine, migrations helpers;
- ``bridge.dispatch``: the retrying worker that posts invoices upstream;
- ``bridge.upstreams``: one adapter (and simulator) per invoicing service;
- ``bridge.admin``: the operator API; ``bridge.web``: the app factory, probes, metrics;
- ``bridge.wiring``: builds what every process holds (database, store, adapters).
"""

__version__ = "0.1.0"
