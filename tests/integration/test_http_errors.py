"""Errors werkzeug raises (404, 405, 413 ...) are answered in the API's JSON shape, with
werkzeug's headers kept: a 405 says which methods the path allows."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import SHOP, admin_headers


def test_405_answers_say_which_methods_are_allowed(client: FlaskClient) -> None:
    response = client.get(f"/webhooks/woocommerce/{SHOP}")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    shops = client.delete("/admin/api/shops", headers=admin_headers())
    assert shops.status_code == 405 and "GET" in shops.headers["Allow"]
    assert shops.mimetype == "application/json"
