"""facturare.md from the command line: ``invoice-bridge demo --upstream facturare`` runs the
whole path against the simulator, ``invoice-bridge sandbox facturare`` serves it, and
``check-config`` proves the API key without creating anything."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import requests
from click.testing import CliRunner

from bridge.cli import cli
from sandbox.config import bridge_config, write_config
from sandbox.facturare import DEMO_API_KEY, FacturareState, facturare_upstream, run_simulator
from tests.acceptance.test_cli import free_port

BIN = str(Path(sys.executable).parent / "invoice-bridge")


def test_demo_invoices_every_order_once(tmp_path: Path) -> None:
    result = subprocess.run([BIN, "demo", "--upstream", "facturare", "--dir",
                             str(tmp_path / "demo")], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "facturare.md simulator at" in result.stdout
    assert "7 orders invoiced, 0 missing, 0 invoiced twice." in result.stdout


def test_sandbox_serves_the_facturare_api(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen([BIN, "sandbox", "facturare", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/customers"
        deadline = time.monotonic() + 15
        while True:
            try:
                response = requests.get(url, auth=("wrong", ""), timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the simulator did not come up"
                time.sleep(0.1)
        assert response.status_code == 401 and response.json()["type"] == "invalid_request"
        assert requests.get(url, auth=(DEMO_API_KEY, ""), timeout=5).json() == []
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_check_config_proves_the_key_and_creates_nothing(tmp_path: Path) -> None:
    with run_simulator(state=FacturareState()) as simulator:
        config = write_config(tmp_path / "config.toml", bridge_config(
            facturare_upstream(simulator.url, api_key=None, api_key_env="FMD_KEY"),
            webhook_secret="s", db_url=f"sqlite:///{tmp_path / 'b.db'}"))
        runner = CliRunner()
        assert runner.invoke(cli, ["--config", str(config), "migrate"],
                             env={"FMD_KEY": DEMO_API_KEY}).exit_code == 0
        ok = runner.invoke(cli, ["--config", str(config), "check-config"],
                           env={"FMD_KEY": DEMO_API_KEY})
        assert ok.exit_code == 0, ok.output
        assert "API key accepted by" in ok.output
        refused = runner.invoke(cli, ["--config", str(config), "check-config"],
                                env={"FMD_KEY": "revoked"})
        assert refused.exit_code != 0 and "Incorrect or missing API key" in refused.output
        assert simulator.state.stats()["write_requests"] == 0
