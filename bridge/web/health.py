"""Probes.

``/healthz`` -- liveness: the process answers. No database, so a database outage does not get
every replica restarted.

``/readyz`` -- readiness, with every check named: the database answers and its schema is at
the newest migration (503 otherwise); plus, reported as warnings, the newest worker
heartbeat, the backlog by state, the age of the oldest due item, the intake (the age of the
oldest delivery not processed yet; quarantined deliveries and spool files are counted there
but never make it fail: one bad delivery must not take a receiver out of the load balancer)
and the spool. The probe is read-only and writes no log line. Warnings only
answer 503 with ``[health] strict = true``: a receiver that can still store deliveries must
stay in the load balancer, because WooCommerce never retries a delivery that fails.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text

from bridge.clock import utcnow
from bridge.intake.backlog import intake_backlog
from bridge.storage import queries
from bridge.storage.migrate import head_revision, revision_of
from bridge.web.runtime import current_runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Any:
    runtime = current_runtime()
    health = runtime.settings.health
    now = utcnow()
    checks: dict[str, dict[str, Any]] = {}
    try:
        with runtime.db.read() as session:
            session.execute(text("SELECT 1"))
            checks["database"] = {"ok": True}
            # on the probe's read-only transaction: no write lock, no log line per probe
            current, head = revision_of(session.connection()), head_revision()
            checks["migrations"] = {"ok": current == head, "current": current, "head": head}
            if current == head:
                checks.update(_work_checks(session, now, health))
                checks["intake"] = _intake_check(session, now, health,
                                                 runtime.store.spool.quarantined())
    except Exception as exc:
        checks["database"] = {"ok": False, "error": str(exc).splitlines()[0][:200]}
        checks.setdefault("migrations", {"ok": False, "error": "database unreachable"})
    spooled = runtime.store.spool.size()
    checks["spool"] = {"ok": spooled == 0, "files": spooled}

    critical = ("database", "migrations")
    failing = [name for name in critical if not checks[name]["ok"]]
    warnings = [name for name, check in checks.items()
                if name not in critical and not check["ok"]]
    if health.strict:
        failing += warnings
    body = {"status": "ready" if not failing else "not ready", "failing": failing,
            "warnings": warnings, "checks": checks}
    return jsonify(body), 200 if not failing else 503


def _intake_check(session: Any, now: Any, health: Any, spool_quarantined: int
                  ) -> dict[str, Any]:
    backlog = intake_backlog(session)
    age = backlog.oldest_unprocessed_age(now)
    return {
        "ok": age <= health.max_intake_age,
        "unprocessed": backlog.unprocessed,
        "oldest_unprocessed_age_seconds": round(age, 1),
        "quarantined_deliveries": sum(backlog.quarantined.values()),
        "quarantined_spool_files": spool_quarantined,
    }


def _work_checks(session: Any, now: Any, health: Any) -> dict[str, dict[str, Any]]:
    newest = queries.latest_heartbeat(session)
    heartbeat_age = (now - newest).total_seconds() if newest else None
    oldest = queries.oldest_due(session, now)
    due_age = (now - oldest).total_seconds() if oldest else 0.0
    by_state: dict[str, int] = {}
    for shop_counts in queries.counts_by_state(session).values():
        for state, count in shop_counts.items():
            by_state[state] = by_state.get(state, 0) + count
    return {
        "workers": {
            "ok": heartbeat_age is not None and heartbeat_age <= health.max_heartbeat_age,
            "live": len(queries.live_workers(session, now, health.max_heartbeat_age)),
            "newest_heartbeat_age_seconds": round(heartbeat_age, 1) if heartbeat_age else None,
        },
        "backlog": {
            "ok": due_age <= health.max_due_age,
            "by_state": by_state,
            "oldest_due_age_seconds": round(due_age, 1),
            "stuck_sending": queries.stuck_sending(session, now),
        },
    }
