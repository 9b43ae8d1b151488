"""The webhook receiver: the HTTP endpoint WooCommerce delivers order events to.

``webhooks.woocommerce`` is the Flask blueprint; ``webhooks.signature`` verifies the
``X-WC-Webhook-Signature`` header exactly as WooCommerce computes it. Everything after the
durable store (parsing, mapping, dispatch) lives in ``bridge``.
"""
