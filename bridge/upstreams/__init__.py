"""Upstream invoicing services: one plug-in per service behind ``InvoiceUpstream``.

- ``base``: the port every adapter implements (``InvoiceUpstream``, ``InvoiceRef``);
- ``settings``: what every ``[shops.upstream]`` section has (``UpstreamSettings``);
- ``plugin`` / ``registry``: ``kind`` -> plug-in, and the adapters of the configured shops;
- ``http``: HTTP with every transport failure classified for the dispatcher;
- ``econt/``: e-Cont.md (settings, adapter, assumptions).

This ``__init__`` imports nothing, so a plug-in's modules can be imported on their own.
"""
