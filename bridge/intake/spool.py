"""A durable local spool for deliveries the database cannot take right now.

One file per delivery, written to a temporary name, fsync'd, renamed into place and the
folder fsync'd -- only then does WooCommerce get its 2xx. File names sort by arrival time, so
the importer replays them in order. Each file's name becomes the delivery's ``spool_key``
(unique), so a crash between "inserted" and "file deleted" cannot import it twice.

The files hold whole orders (names, addresses, e-mails) and the request headers, so the
folder is private to the service's user (0700) and every file in it is 0600, whatever the
umask. A file that cannot be read or imported is never deleted: it is moved to
``quarantine/`` with the reason in a ``<name>.reason`` file beside it.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import logging
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)
_counter = itertools.count()

#: where files that cannot be read or imported go (a subfolder of the spool)
QUARANTINE = "quarantine"
#: the folder older versions moved unreadable files to; still counted as quarantined
_LEGACY_QUARANTINE = "unreadable"
FOLDER_MODE = 0o700
FILE_MODE = 0o600


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
        self._private = False  # the folder's mode was checked (once per process)

    def write(self, item: SpooledDelivery) -> Path:
        self._ensure_folder(self.directory)
        record = {
            "shop": item.shop, "source": item.source, "received_at": item.received_at.isoformat(),
            "topic": item.topic, "webhook_id": item.webhook_id, "delivery_id": item.delivery_id,
            "headers": item.headers, "body": base64.b64encode(item.body).decode("ascii"),
        }
        final = self.directory / item.key
        _write_private(self.directory / f".tmp-{item.key}", json.dumps(record).encode("utf-8"))
        os.replace(self.directory / f".tmp-{item.key}", final)
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

    def quarantined(self) -> int:
        """How many files were moved aside (they need a person; see docs/operations.md)."""
        return sum(len(list((self.directory / name).glob("*.json")))
                   for name in (QUARANTINE, _LEGACY_QUARANTINE)
                   if (self.directory / name).is_dir())

    def read(self, path: Path) -> SpooledDelivery:
        record = json.loads(path.read_bytes())
        return SpooledDelivery(
            key=path.name, shop=record["shop"], source=record.get("source", "webhook"),
            received_at=datetime.fromisoformat(record["received_at"]), topic=record.get("topic"),
            webhook_id=record.get("webhook_id"), delivery_id=record.get("delivery_id"),
            headers=record.get("headers") or {}, body=base64.b64decode(record["body"]),
        )

    def quarantine(self, path: Path, reason: str) -> Path:
        """Move a file that cannot be read or imported aside, with the reason beside it
        (``<name>.reason``), so the other files keep importing. Never deleted: it may be
        someone's order. Returns its new path."""
        folder = self.directory / QUARANTINE
        self._ensure_folder(folder)
        target = folder / path.name
        _write_private(folder / f"{path.name}.reason", reason.encode("utf-8", "replace"))
        os.replace(path, target)
        _fsync_dir(folder)
        _fsync_dir(self.directory)
        log.error("spool file quarantined", extra={"spool_key": path.name,
                                                   "path": str(target), "reason": reason})
        return target

    def items(self) -> Iterator[tuple[Path, SpooledDelivery | None]]:
        for path in self.pending():
            try:
                yield path, self.read(path)
            except FileNotFoundError:
                continue  # another importer took it
            except (ValueError, KeyError, TypeError) as exc:
                with contextlib.suppress(FileNotFoundError):  # another importer got there
                    self.quarantine(path, f"cannot read: {type(exc).__name__}: {exc}"[:2000])
                yield path, None

    def _ensure_folder(self, folder: Path) -> None:
        """Create ``folder`` private (0700), or make an existing one private: a folder an
        older version (or a permissive umask) created may be readable by others."""
        if folder == self.directory and self._private:
            return
        folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        if stat.S_IMODE(folder.stat().st_mode) != FOLDER_MODE:
            try:
                folder.chmod(FOLDER_MODE)
            except OSError as exc:  # not ours to change: say so, but still spool
                log.warning("spool folder is not private (0700) and cannot be made so",
                            extra={"path": str(folder), "error": str(exc)})
        if folder == self.directory:
            self._private = True


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file readable by its owner only (0600 regardless of the
    umask), fsync'd."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a leftover of a crash mid-write; O_EXCL below must not trip on it
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # the umask may have taken bits from FILE_MODE, never add
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
