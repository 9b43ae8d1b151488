"""Probes. ``/healthz``: the process answers (no database, so a database outage does not get
every replica killed). ``/readyz``: the database answers and its schema is at the newest
migration; 503 naming the failing checks otherwise."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text

from bridge.storage.migrate import current_revision, head_revision
from bridge.web import current_runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Any:
    runtime = current_runtime()
    checks: dict[str, dict[str, Any]] = {}
    try:
        with runtime.db.read() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except Exception as exc:
        checks["database"] = {"ok": False, "error": str(exc).splitlines()[0][:200]}
    if checks["database"]["ok"]:
        current, head = current_revision(runtime.db), head_revision()
        checks["migrations"] = {"ok": current == head, "current": current, "head": head}
    else:
        checks["migrations"] = {"ok": False, "error": "database unreachable"}
    failing = [name for name, check in checks.items() if not check["ok"]]
    body = {"status": "ready" if not failing else "not ready", "failing": failing,
            "checks": checks}
    return jsonify(body), 200 if not failing else 503
