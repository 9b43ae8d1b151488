"""``HttpClient`` over real HTTP on loopback: verbs, headers, the auth hook, and which
transport failures are ambiguous (a request that changes nothing never is)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from bridge.errors import UpstreamTimeout
from bridge.upstreams.http import HttpClient

SEEN: list[dict[str, Any]] = []


def _app() -> Flask:
    app = Flask("fake_upstream")

    @app.route("/echo", methods=["GET", "POST", "PATCH"])
    def echo() -> Any:
        SEEN.append({"method": request.method, "headers": dict(request.headers),
                     "json": request.get_json(silent=True), "args": dict(request.args)})
        return jsonify({"ok": True})

    @app.route("/slow", methods=["GET", "POST"])
    def slow() -> Any:
        time.sleep(1.0)
        return jsonify({"late": True})

    @app.post("/guarded")
    def guarded() -> Any:
        SEEN.append({"auth": request.headers.get("Authorization")})
        if request.headers.get("Authorization") != "Bearer fresh":
            return jsonify({"error": "invalid_token"}), 401
        return jsonify({"ok": True}), 201

    return app


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def client() -> Iterator[HttpClient]:
    SEEN.clear()
    http = HttpClient(connect_timeout=2, read_timeout=5)
    yield http
    http.close()


def test_verbs_params_and_per_request_headers(base_url: str, client: HttpClient) -> None:
    client.get(f"{base_url}/echo", params={"custom_id": "shop:1"},
               headers={"User-Agent": "Shop (ops@example.test)"})
    client.post_json(f"{base_url}/echo", {"a": 1})
    client.patch_json(f"{base_url}/echo", {"b": 2})
    assert [seen["method"] for seen in SEEN] == ["GET", "POST", "PATCH"]
    assert SEEN[0]["args"] == {"custom_id": "shop:1"}
    assert SEEN[0]["headers"]["User-Agent"] == "Shop (ops@example.test)"
    assert SEEN[1]["headers"]["User-Agent"].startswith("invoice-bridge/")
    assert (SEEN[1]["json"], SEEN[2]["json"]) == ({"a": 1}, {"b": 2})


def test_a_timeout_is_ambiguous_only_for_a_request_that_changes_something(
        base_url: str, client: HttpClient) -> None:
    with pytest.raises(UpstreamTimeout) as post:
        client.post_json(f"{base_url}/slow", {}, timeout=(2, 0.2))
    with pytest.raises(UpstreamTimeout) as get:
        client.get(f"{base_url}/slow", timeout=(2, 0.2))
    with pytest.raises(UpstreamTimeout) as lookup:
        client.post_json(f"{base_url}/slow", {}, timeout=(2, 0.2), idempotent=True)
    assert post.value.ambiguous and not get.value.ambiguous and not lookup.value.ambiguous


class TokenAuth:
    """A token that goes stale: the first one is refused, renewing gives a good one."""

    def __init__(self, *, renewable: bool = True) -> None:
        self.token, self.renewable = "stale", renewable
        self.renewals: list[Mapping[str, str]] = []

    def headers(self) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def renew(self, rejected: Mapping[str, str]) -> bool:
        self.renewals.append(rejected)
        if self.renewable:
            self.token = "fresh"
        return self.renewable


def test_a_401_renews_the_credentials_and_sends_once_more(base_url: str,
                                                         client: HttpClient) -> None:
    auth = TokenAuth()
    response = client.post_json(f"{base_url}/guarded", {"x": 1}, auth=auth)
    assert response.status_code == 201
    assert [seen["auth"] for seen in SEEN] == ["Bearer stale", "Bearer fresh"]
    assert auth.renewals == [{"Authorization": "Bearer stale"}]


def test_credentials_that_cannot_be_renewed_give_the_401_back(base_url: str,
                                                             client: HttpClient) -> None:
    auth = TokenAuth(renewable=False)
    assert client.post_json(f"{base_url}/guarded", {}, auth=auth).status_code == 401
    assert len(SEEN) == 1 and len(auth.renewals) == 1
