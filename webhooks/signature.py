"""WooCommerce webhook signatures.

WooCommerce signs the exact body bytes it sends: ``base64(HMAC-SHA256(key, body))`` where the
key is the webhook secret *after* ``wp_specialchars_decode($secret, ENT_QUOTES)`` (WooCommerce
PR #22722). The admin screen stores a typed ``&`` as ``&amp;``; the shop owner copies the
secret as shown, so we decode it the same way before computing the HMAC.
"""

from __future__ import annotations

import base64
import functools
import hmac
import re

# wp_specialchars_decode(..., ENT_QUOTES): first strip zero padding from the numeric forms,
# then replace from one table in a single pass (PHP strtr: longest match first, no re-scan).
_ZERO_PADDING = (
    (re.compile(r"&#0*39;"), "&#039;"),
    (re.compile(r"&#x0*27;", re.IGNORECASE), "&#x27;"),
    (re.compile(r"&#0*34;"), "&#034;"),
    (re.compile(r"&#x0*22;", re.IGNORECASE), "&#x22;"),
    (re.compile(r"&#0*60;"), "&#060;"),
    (re.compile(r"&#0*62;"), "&#062;"),
    (re.compile(r"&#0*38;"), "&#038;"),
    (re.compile(r"&#x0*26;", re.IGNORECASE), "&#x26;"),
)
_TRANSLATION = {
    "&#039;": "'", "&#x27;": "'",
    "&quot;": '"', "&#034;": '"', "&#x22;": '"',
    "&lt;": "<", "&#060;": "<", "&gt;": ">", "&#062;": ">",
    "&amp;": "&", "&#038;": "&", "&#x26;": "&",
}
_TRANSLATE = re.compile("|".join(re.escape(k) for k in sorted(_TRANSLATION, key=len, reverse=True)))


@functools.lru_cache(maxsize=256)
def decode_wc_secret(secret: str) -> str:
    """The HMAC key WooCommerce derives from a stored secret (``wp_specialchars_decode``)."""
    if "&" not in secret:
        return secret
    for pattern, replacement in _ZERO_PADDING:
        secret = pattern.sub(replacement, secret)
    return _TRANSLATE.sub(lambda m: _TRANSLATION[m.group(0)], secret)


def compute_signature(body: bytes, secret: str) -> str:
    """``X-WC-Webhook-Signature`` for ``body`` under the secret as WooCommerce stores it."""
    key = decode_wc_secret(secret).encode("utf-8")
    return base64.b64encode(hmac.digest(key, body, "sha256")).decode("ascii")


def verify_signature(body: bytes, signature: str | None, secret: str) -> bool:
    """Constant-time check of ``signature`` over the raw ``body`` bytes."""
    if not signature:
        return False
    expected = compute_signature(body, secret)
    presented = signature.strip().encode("ascii", "replace")
    return hmac.compare_digest(expected.encode("ascii"), presented)
