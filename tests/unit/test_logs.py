"""Logs are JSON lines, and personal data and secrets never appear in full."""

from __future__ import annotations

import json
import logging

import pytest

from bridge.logs import JsonFormatter, TextFormatter, mask_secret, mask_text


def record(message: str, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("bridge.test", logging.INFO, __file__, 1, message, (), None)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


@pytest.mark.parametrize(("text", "hidden"), [
    ("buyer elena.rusu@mail.example", "elena.rusu@mail.example"),
    ("not an address: 'ion@'", "ion@"),
    ("IDNO 1012600034567", "1012600034567"),
    ("phone +373 69 123 456", "69 123"),
])
def test_free_text_is_masked(text: str, hidden: str) -> None:
    assert hidden not in mask_text(text)


def test_ordinary_numbers_survive() -> None:
    assert mask_text("order 1187 total 8377.20 in 2.5s") == "order 1187 total 8377.20 in 2.5s"


def test_json_lines_mask_fields_by_name_and_content() -> None:
    line = JsonFormatter().format(record(
        "delivery for elena.rusu@mail.example", shop="s1", order_id=1187,
        token="7d2e91c0a4b35f6e8c1d0b9a7f6e5d43", webhook_secret="wc_test_secret",
        email="elena.rusu@mail.example", phone="+37369123456", reason="ok"))
    entry = json.loads(line)
    assert entry["level"] == "info" and entry["logger"] == "bridge.test"
    assert entry["shop"] == "s1" and entry["order_id"] == 1187 and entry["reason"] == "ok"
    assert "7d2e91c0a4b35f6e8c1d0b9a7f6e5d43" not in line
    assert "wc_test_secret" not in line
    assert "elena.rusu" not in line and "+37369123456" not in line
    assert entry["token"] == mask_secret("7d2e91c0a4b35f6e8c1d0b9a7f6e5d43")


def test_text_format_masks_too() -> None:
    line = TextFormatter().format(record("x", client_id="0f3c2a9be1d84c6fa07b5e3d9c1a2b44"))
    assert "0f3c2a9be1d84c6fa07b5e3d9c1a2b44" not in line and "client_id=0f3***" in line


def test_log_context_adds_correlation_ids_and_extras_win() -> None:
    from bridge.logs import log_context

    with log_context(delivery=41, order="shop/1187"):
        with log_context(order="shop/1188"):
            inner = json.loads(JsonFormatter().format(record("x")))
        outer = json.loads(JsonFormatter().format(record("y", order="explicit")))
    after = json.loads(JsonFormatter().format(record("z")))
    assert inner["delivery"] == 41 and inner["order"] == "shop/1188"
    assert outer["order"] == "explicit"
    assert "delivery" not in after and "order" not in after
