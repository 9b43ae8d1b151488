"""The commands as a user runs them: real processes, real ports, real signals."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from bridge.cli import cli
from sandbox.config import bridge_config, merge, write_config
from sandbox.econt import (
    DEMO_TOKEN,
    RunningSimulator,
    econt_upstream,
    run_simulator,
)
from sandbox.woocommerce.samples import sample_orders
from sandbox.woocommerce.sender import WooCommerceWebhook

BIN = str(Path(sys.executable).parent / "invoice-bridge")
SECRET = "acceptance_secret_42"
ADMIN = "acceptance-admin-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_config(tmp_path: Path, upstream: str, port: int = 8080) -> Path:
    config = bridge_config(econt_upstream(upstream, token=None, token_env="TEST_ECONT_TOKEN"),
                           webhook_secret=SECRET, log_format="json", log_level=None)
    return write_config(tmp_path / "config.toml", merge(config, {
        "server": {"host": "127.0.0.1", "port": port},
        "admin": {"tokens": [ADMIN]},
        "dispatch": {"poll_interval": "200ms"},
    }))


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_simulator() as running:
        yield running


def wait_for(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_run_serves_invoices_and_stops_cleanly_on_sigterm(tmp_path: Path,
                                                          simulator: RunningSimulator) -> None:
    port = free_port()
    config = cli_config(tmp_path, simulator.url, port)
    env = {**os.environ, "TEST_ECONT_TOKEN": DEMO_TOKEN}
    process = subprocess.Popen([BIN, "--config", str(config), "run"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{url}/healthz"))
        assert requests.get(f"{url}/readyz", timeout=5).status_code == 200
        hook = WooCommerceWebhook(delivery_url=f"{url}/webhooks/woocommerce/shop", secret=SECRET)
        assert hook.ping().status_code == 200
        order = sample_orders()[1]  # B2B, VAT, coupon, fee, shipping
        assert hook.deliver("order.created", order).status_code == 200

        wait_for(lambda: simulator.state.invoice_count(int(order["id"])) == 1)
        [invoice] = simulator.state.invoices(order_id=int(order["id"]))
        items = invoice.body["items"].values()
        assert sum(Decimal(str(i["line_total"])) for i in items) == Decimal(order["total"])
        admin = {"Authorization": f"Bearer {ADMIN}"}
        wait_for(lambda: requests.get(f"{url}/admin/api/orders/shop/{order['id']}",
                                      headers=admin, timeout=5).json()["order"]["state"]
                 == "synced")
        row = requests.get(f"{url}/admin/api/orders/shop/{order['id']}", headers=admin,
                           timeout=5).json()["order"]
        assert row["invoice_id"] == invoice.hash
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert b'"worker stopped"' in stderr
    assert b"elena.rusu@mail.example" not in stderr  # personal data never in the logs


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


def test_demo_exits_zero_with_every_order_invoiced_once(tmp_path: Path) -> None:
    result = subprocess.run([BIN, "demo", "--dir", str(tmp_path / "demo")], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 orders invoiced, 0 missing, 0 invoiced twice." in result.stdout
    assert (tmp_path / "demo" / "bridge.db").exists()
    # write-back: what each order shows in the shop simulator, as the demo printed it
    invoices = dict(re.findall(r"^  (EC-\d+)\s+(\d+)\s", result.stdout, re.MULTILINE))
    shown = re.findall(r"^\s+(\d+)  (\w+)\s+(\d+)  (\w+)\s+/ (\S+)\s+(yes|NO)\s+(.*)$",
                       result.stdout.split("Written back to the shop")[1], re.MULTILINE)
    by_state = Counter(state for _, state, *_ in shown)
    assert by_state == {"synced": 7, "skipped": 1, "invalid": 1}, shown
    for order, state, notes, meta_state, number, ok, note in shown:
        assert (int(notes), meta_state, ok) == (1, state, "yes"), (order, note)
        if state == "synced":  # exactly one invoice note, and the invoice's number in meta
            assert invoices[number] == order
            assert note == f"Invoice {number} issued in e-Cont.md."
        else:  # one note with the reason, no invoice number
            assert number == "-" and note.startswith(("Not invoiced: ", "No invoice: "))
    assert "billing.email: re" in dict((o, n) for o, *_, n in shown)["2010"]
    assert ("7 orders show their invoice (one note, meta), 2 show why they have none, 0 wrong; "
            "9 of the shop's 9 echoes of the write-back recognised") in result.stdout


def test_migrate_and_exit_codes(tmp_path: Path, runner: CliRunner) -> None:
    config = cli_config(tmp_path, "http://127.0.0.1:9")
    env = {"TEST_ECONT_TOKEN": DEMO_TOKEN}
    ok = runner.invoke(cli, ["--config", str(config), "migrate"], env=env)
    assert ok.exit_code == 0 and "database at revision" in ok.output
    missing_env = runner.invoke(cli, ["--config", str(config), "migrate"],
                                env={"TEST_ECONT_TOKEN": ""})
    assert missing_env.exit_code == 2
    assert "shops[shop].upstream.token_env" in missing_env.output
    no_config = runner.invoke(cli, ["migrate"], env={"INVOICE_BRIDGE_CONFIG": ""})
    assert no_config.exit_code == 2 and "INVOICE_BRIDGE_CONFIG" in no_config.output


def test_resync_command_reports_refusals(tmp_path: Path, runner: CliRunner) -> None:
    config = cli_config(tmp_path, "http://127.0.0.1:9")
    env = {"TEST_ECONT_TOKEN": DEMO_TOKEN}
    assert runner.invoke(cli, ["--config", str(config), "migrate"], env=env).exit_code == 0
    result = runner.invoke(cli, ["--config", str(config), "resync", "shop", "404"], env=env)
    assert result.exit_code == 1
    assert "shop/404: refused (not_found)" in result.output


def test_sandbox_serves_the_econt_api(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen([BIN, "sandbox", "econt", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/facturare/v1/put/invoice"
        wait_for(lambda: _posts(url))
        response = requests.post(url, json={"connect": {"client": "x", "token": "y",
                                                        "language": "ro"}}, timeout=5)
        assert response.status_code == 401 and response.json()["status"] == "FAIL"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _posts(url: str) -> bool:
    try:
        requests.post(url, json={}, timeout=1)
        return True
    except requests.ConnectionError:
        return False


def test_sandbox_serves_the_woocommerce_rest_api() -> None:
    port = free_port()
    process = subprocess.Popen([BIN, "sandbox", "woocommerce", "--port", str(port),
                                "--orders", "3", "--plain-http"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/wp-json/wc/v3/orders"
        wait_for(lambda: _gets(url) or process.poll() is not None)
        assert process.poll() is None, process.communicate()[0].decode()[-2000:]
        response = requests.get(url, timeout=5)  # no key: WooCommerce refuses
        assert response.status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)


def _gets(url: str) -> bool:
    try:
        requests.get(url, timeout=1)
        return True
    except requests.ConnectionError:
        return False
