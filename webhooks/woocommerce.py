"""``POST /webhooks/woocommerce/<shop>``: the URL a shop's WooCommerce webhooks point to.

WooCommerce never retries a delivery and disables a webhook after repeated non-2xx answers,
so this endpoint answers non-2xx only when the request is not from the shop at all:

- unknown shop -> 404; body over the limit -> 413; missing or bad signature -> 401;
- a ping (``webhook_id=N``, form-encoded, unsigned) -> exactly 200;
- anything authentic -> stored durably (raw bytes and X-WC headers), then 200, whatever its
  content: a bad order is the worker's to record, not a reason to lose the delivery.

Nothing from an unauthenticated request is stored beyond a log line and a counter: the log
line carries at most ``LOGGED_CHARS`` of each header, and the counter's labels come from
closed sets (``bridge.metrics``), so forged requests can neither slow the log down nor add
series to ``/metrics``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, jsonify, request

from bridge import metrics
from bridge.errors import RefusalKind, Refused
from bridge.intake.store import IncomingDelivery
from bridge.masking import bound
from bridge.web.runtime import current_runtime
from webhooks.signature import verify_signature

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

PING = re.compile(rb"^webhook_id=\d+$")
#: how much of a header value (or of the shop part of the path) one log line carries
LOGGED_CHARS = 200
#: request headers kept with each delivery (for audit and replay), spelled as WooCommerce
#: sends them; read from the WSGI environ, where every stack puts them in one known form
KEPT_HEADERS = {
    name: "HTTP_" + name.upper().replace("-", "_") if name != "Content-Type" else "CONTENT_TYPE"
    for name in (
        "User-Agent", "Content-Type", "X-WC-Webhook-Source", "X-WC-Webhook-Topic",
        "X-WC-Webhook-Resource", "X-WC-Webhook-Event", "X-WC-Webhook-Signature",
        "X-WC-Webhook-ID", "X-WC-Webhook-Delivery-ID",
    )
}


@bp.post("/woocommerce/<shop_id>")
def receive(shop_id: str) -> Any:
    runtime = current_runtime()
    shop = runtime.settings.shop(shop_id)
    if shop is None:
        metrics.deliveries.labels(shop="unknown", topic="", outcome="unknown_shop").inc()
        log.warning("delivery for an unknown shop", extra={"shop_path": _logged(shop_id, 64)})
        raise Refused("unknown_shop", "no shop with this id is configured here",
                      RefusalKind.NOT_FOUND)

    body = request.get_data(cache=False)  # MAX_CONTENT_LENGTH turns oversize into 413
    environ = request.environ
    headers = {name: environ[key] for name, key in KEPT_HEADERS.items() if key in environ}
    topic = headers.get("X-WC-Webhook-Topic")
    signature = headers.get("X-WC-Webhook-Signature")

    if topic is None and signature is None and PING.match(body.strip()):
        metrics.deliveries.labels(shop=shop.id, topic="ping", outcome="ping").inc()
        log.info("webhook ping", extra={"shop": shop.id, "webhook": _logged(body.decode()[11:])})
        return jsonify({"status": "ok"}), 200

    if not verify_signature(body, signature, shop.webhook_secret):
        reason = "missing" if not signature else "mismatch"
        metrics.deliveries.labels(shop=shop.id, topic=topic or "", outcome="bad_signature").inc()
        log.warning("webhook signature rejected", extra={
            "shop": shop.id, "reason": reason, "topic": _logged(topic),
            "wc_delivery_id": _logged(headers.get("X-WC-Webhook-Delivery-ID"))})
        raise Refused("invalid_signature",
                      f"X-WC-Webhook-Signature is {reason}; check the webhook secret",
                      RefusalKind.UNAUTHORIZED)

    wc_delivery_id = headers.get("X-WC-Webhook-Delivery-ID")
    receipt = runtime.store.store(IncomingDelivery(
        shop=shop.id, body=body, topic=topic, headers=headers,
        webhook_id=headers.get("X-WC-Webhook-ID"), delivery_id=wc_delivery_id,
    ))
    runtime.wake.set()
    outcome = "spooled" if receipt.spooled else "stored"
    metrics.deliveries.labels(shop=shop.id, topic=topic or "", outcome=outcome).inc()
    log.info("delivery accepted", extra={"shop": shop.id, "topic": topic,
                                         "delivery": receipt.delivery_id,
                                         "spool_key": receipt.spool_key,
                                         "wc_delivery_id": wc_delivery_id})
    return jsonify({"status": "accepted", "delivery": receipt.delivery_id,
                    "spooled": receipt.spooled}), 200


def _logged(value: str | None, limit: int = LOGGED_CHARS) -> str | None:
    return None if value is None else bound(value, limit)
