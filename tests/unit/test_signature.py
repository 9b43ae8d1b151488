"""The receiver's signature check against the research vectors (woocommerce.md 7.3)."""

from __future__ import annotations

import pytest

from webhooks.signature import compute_signature, decode_wc_secret, verify_signature

BODY = b'{"id":1203}'


@pytest.mark.parametrize(("secret", "signature"), [
    ("wc_test_secret", "/9GXyxGVZtnt3UPe6Ul2BOEeueQSkjWeeX+E/lErYOw="),
    ("s3cr3t&amp;key", "9LV0G0wHYXT6jZ5XellAQFxKHyO9aXvRjKqxV1RqYKs="),  # stored form, decoded
    ("s3cr3t&key", "9LV0G0wHYXT6jZ5XellAQFxKHyO9aXvRjKqxV1RqYKs="),
])
def test_vectors(secret: str, signature: str) -> None:
    assert compute_signature(BODY, secret) == signature
    assert verify_signature(BODY, signature, secret)


def test_the_literal_entity_mistake_does_not_verify() -> None:
    wrong = "zCZDDHqNDgqGWh2sVJ64MjSWfztkqyx6w9yOmYltKnY="
    assert not verify_signature(BODY, wrong, "s3cr3t&amp;key")


@pytest.mark.parametrize("bad", [
    None, "", "garbage", "/9GXyxGVZtnt3UPe6Ul2BOEeueQSkjWeeX+E/lErYOx=", "ünïcode"])
def test_rejects_missing_and_wrong(bad: str | None) -> None:
    assert not verify_signature(BODY, bad, "wc_test_secret")


def test_one_changed_byte_fails() -> None:
    signature = compute_signature(BODY, "wc_test_secret")
    assert not verify_signature(b'{"id":1204}', signature, "wc_test_secret")


@pytest.mark.parametrize(("stored", "key"), [
    ("a&amp;b", "a&b"), ("&lt;x&gt;", "<x>"), ("&quot;q&quot;", '"q"'), ("it&#039;s", "it's"),
    ("it&#39;s", "it's"), ("it&#x27;s", "it's"), ("x&#0038;y", "x&y"), ("&amp;lt;", "&lt;"),
    ("&nbsp;", "&nbsp;"), ("plain", "plain"),
])
def test_secret_decoding_matches_wp_specialchars_decode(stored: str, key: str) -> None:
    assert decode_wc_secret(stored) == key
