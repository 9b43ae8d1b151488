"""The ingest baseline: a Flask endpoint that reads the body and answers, nothing else,
served with the same gunicorn settings as the bridge."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request

app = Flask("noop")


@app.post("/webhooks/woocommerce/<shop>")
def receive(shop: str) -> Any:
    request.get_data()
    return jsonify({"status": "accepted", "delivery": 0, "spooled": False}), 200


@app.get("/healthz")
def healthz() -> Any:
    return jsonify({"status": "ok"})
