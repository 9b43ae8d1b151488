"""The spool on a real folder: private modes, and files that cannot be read are moved aside
with their reason, never deleted."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.intake.spool import Spool, SpooledDelivery


def _item(key: str | None = None) -> SpooledDelivery:
    return SpooledDelivery(key=key or Spool.new_key(), shop="shop", source="webhook",
                           received_at=datetime(2026, 3, 14, tzinfo=UTC), topic="order.created",
                           webhook_id="3", delivery_id="d", headers={"X-WC-Webhook-ID": "3"},
                           body=b'{"id": 1}')


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o002)  # what a shared host or a container often has
    yield
    os.umask(old)


def test_spool_folder_is_0700_and_its_files_0600(tmp_path: Path, permissive_umask: None) -> None:
    spool = Spool(tmp_path / "spool")
    path = spool.write(_item())
    assert _mode(tmp_path / "spool") == 0o700
    assert _mode(path) == 0o600
    assert spool.read(path).body == b'{"id": 1}'


def test_an_existing_open_spool_folder_is_made_private(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    folder.mkdir()
    folder.chmod(0o755)  # as an older version (or a wide umask) left it
    Spool(folder).write(_item())
    assert _mode(folder) == 0o700


def test_an_unreadable_file_is_quarantined_with_its_reason(tmp_path: Path,
                                                           permissive_umask: None) -> None:
    spool = Spool(tmp_path / "spool")
    good = spool.write(_item())
    bad = tmp_path / "spool" / "00000000000000000001-1-000001.json"
    bad.write_bytes(b"{not json")

    items = list(spool.items())

    assert [item.key for _, item in items if item is not None] == [good.name]
    moved = tmp_path / "spool" / "quarantine" / bad.name
    assert moved.read_bytes() == b"{not json"  # kept as it was
    reason = moved.with_name(bad.name + ".reason")
    assert reason.read_text().startswith("cannot read: JSONDecodeError")
    assert _mode(tmp_path / "spool" / "quarantine") == 0o700 and _mode(reason) == 0o600
    assert spool.size() == 1 and spool.quarantined() == 1
