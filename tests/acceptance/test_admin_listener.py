"""``[admin] listen`` with ``invoice-bridge run`` (real waitress servers on loopback): the
admin API and /metrics answer only on their own listener, the webhooks only on the public
one, and the health probes on both."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from bridge.embedded import EmbeddedService
from tests.conftest import SHOP, admin_headers


@pytest.fixture
def service(make_settings: Any) -> Iterator[EmbeddedService]:
    with EmbeddedService(make_settings(), host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture
def split_service(make_settings: Any) -> Iterator[EmbeddedService]:
    settings = make_settings({"admin": {"listen": "127.0.0.1:8081"}})
    with EmbeddedService(settings, host="127.0.0.1", port=0, admin_port=0) as running:
        yield running


def test_admin_listen_serves_admin_and_metrics_only_there(
        split_service: EmbeddedService) -> None:
    public, admin = split_service.url, split_service.admin_url
    assert public != admin
    for path in ("/admin/api/shops", "/admin/api/openapi.json", "/metrics"):
        assert requests.get(public + path, headers=admin_headers(),
                            timeout=10).status_code == 404, path
    assert requests.get(admin + "/admin/api/shops", headers=admin_headers(),
                        timeout=10).status_code == 200
    assert requests.get(admin + "/admin/api/shops", timeout=10).status_code == 401
    assert "invoice_bridge_" in requests.get(admin + "/metrics", timeout=10).text
    # webhooks only on the public listener; the probes on both
    assert requests.post(f"{public}/webhooks/woocommerce/{SHOP}", data=b"{}",
                         timeout=10).status_code == 401
    assert requests.post(f"{admin}/webhooks/woocommerce/{SHOP}", data=b"{}",
                         timeout=10).status_code == 404
    for base in (public, admin):
        assert requests.get(base + "/healthz", timeout=10).status_code == 200
        assert requests.get(base + "/readyz", timeout=10).status_code == 200


def test_without_admin_listen_one_listener_serves_everything(
        service: EmbeddedService) -> None:
    assert service.admin_url == service.url and service.admin_server is None
    assert requests.get(service.url + "/admin/api/shops", headers=admin_headers(),
                        timeout=10).status_code == 200
    assert requests.get(service.url + "/metrics", timeout=10).status_code == 200
