"""A durable local spool for deliveries that arrive while the database is unreachable.

One file per delivery, written to a temporary name, fsync'd, renamed into place and the
folder fsync'd -- only then does WooCommerce get its 2xx. File names sort by arrival time, so
the importer replays them in order. Each file's name becomes the delivery's ``spool_key``
(unique), so a crash between "inserted" and "file deleted" cannot import it twice.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)
_counter = itertools.count()


@dataclass(frozen=True)
class SpooledDelivery:
    key: str
    shop: str
    source: str
    received_at: datetime
    topic: str | None
    webhook_id: str | None
    delivery_id: str | None
    headers: dict[str, str]
    body: bytes


class Spool:
    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def write(self, item: SpooledDelivery) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        record = {
            "shop": item.shop, "source": item.source, "received_at": item.received_at.isoformat(),
            "topic": item.topic, "webhook_id": item.webhook_id, "delivery_id": item.delivery_id,
            "headers": item.headers, "body": base64.b64encode(item.body).decode("ascii"),
        }
        final = self.directory / item.key
        temporary = self.directory / f".tmp-{item.key}"
        with open(temporary, "wb") as handle:
            handle.write(json.dumps(record).encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        _fsync_dir(self.directory)
        return final

    @staticmethod
    def new_key() -> str:
        """Sortable by arrival: nanoseconds, then pid and a counter to break ties."""
        return f"{time.time_ns():020d}-{os.getpid()}-{next(_counter):06d}.json"

    def pending(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob("*.json") if not p.name.startswith("."))

    def size(self) -> int:
        return len(self.pending())

    def read(self, path: Path) -> SpooledDelivery:
        record = json.loads(path.read_bytes())
        return SpooledDelivery(
            key=path.name, shop=record["shop"], source=record.get("source", "webhook"),
            received_at=datetime.fromisoformat(record["received_at"]), topic=record.get("topic"),
            webhook_id=record.get("webhook_id"), delivery_id=record.get("delivery_id"),
            headers=record.get("headers") or {}, body=base64.b64decode(record["body"]),
        )

    def quarantine(self, path: Path, reason: str) -> None:
        """Move an unreadable file aside (never delete what might be someone's order)."""
        target = self.directory / "unreadable"
        target.mkdir(exist_ok=True)
        os.replace(path, target / path.name)
        log.error("spool file moved to %s: %s", target / path.name, reason)

    def items(self) -> Iterator[tuple[Path, SpooledDelivery | None]]:
        for path in self.pending():
            try:
                yield path, self.read(path)
            except FileNotFoundError:
                continue  # another importer took it
            except (ValueError, KeyError, TypeError) as exc:
                self.quarantine(path, f"cannot read: {exc}")
                yield path, None


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
