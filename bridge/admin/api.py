"""``/admin/api``: see and repair sync rows. Thin handlers over ``bridge.operations``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import func, select

from bridge import operations
from bridge.admin.auth import require_admin
from bridge.admin.views import attempt_view, delivery_view, row_view, shop_view
from bridge.storage.models import Delivery, DispatchAttempt, OrderSync, ShopState, SyncEvent
from bridge.web import current_runtime, error_response, get_session

bp = Blueprint("admin", __name__, url_prefix="/admin/api")


@bp.before_request
def _authenticate() -> None:
    request.environ["bridge.admin"] = require_admin()


@bp.errorhandler(operations.OperationRefused)
def _refused(error: operations.OperationRefused) -> Any:
    return error_response(error.status, error.code, str(error), **error.details)


@bp.get("/orders/<shop>/<int:order_id>")
def get_order(shop: str, order_id: int) -> Any:
    session = get_session()
    row = operations.get_row(session, shop, order_id)
    attempts = session.execute(select(DispatchAttempt).where(DispatchAttempt.sync_id == row.id)
                               .order_by(DispatchAttempt.id.desc()).limit(100)).scalars()
    deliveries = session.execute(
        select(Delivery).where(Delivery.shop == shop, Delivery.order_id == order_id)
        .order_by(Delivery.id.desc()).limit(100)).scalars()
    events = session.execute(select(SyncEvent).where(SyncEvent.sync_id == row.id)
                             .order_by(SyncEvent.id.desc()).limit(100)).scalars()
    return jsonify({
        "order": row_view(row, with_payload=True),
        "attempts": [attempt_view(a) for a in attempts],
        "deliveries": [delivery_view(d) for d in deliveries],
        "events": [{"at": e.at.isoformat(), "kind": e.kind, "detail": e.detail} for e in events],
    })


@bp.post("/orders/<shop>/<int:order_id>/resync")
def resync_order(shop: str, order_id: int) -> Any:
    runtime = current_runtime()
    options = request.get_json(silent=True) or {}
    force = bool(options.get("force", False)) if isinstance(options, dict) else False
    session = get_session(write=True)
    with session.begin():
        result = operations.resync(session, runtime.settings, runtime.upstreams, shop, order_id,
                                   force=force, actor=request.environ["bridge.admin"])
        view = row_view(result.row)
    runtime.wake.set()
    return jsonify({"queued": 1, "order": view, "remapped": result.remapped}), 202


@bp.get("/shops")
def list_shops() -> Any:
    """Every configured shop: paused or not (and why), and its rows counted by state."""
    session = get_session()
    settings = current_runtime().settings
    counts: dict[str, dict[str, int]] = {shop: {} for shop in settings.shops}
    for shop, state, count in session.execute(
            select(OrderSync.shop, OrderSync.state, func.count()).group_by(OrderSync.shop,
                                                                          OrderSync.state)):
        counts.setdefault(shop, {})[state] = count
    states = {s.shop: s for s in session.execute(select(ShopState)).scalars()}
    return jsonify({"shops": [shop_view(shop, states.get(shop), counts.get(shop, {}))
                              for shop in settings.shops]})


@bp.post("/shops/<shop>/pause")
def pause_shop(shop: str) -> Any:
    options = request.get_json(silent=True) or {}
    reason = options.get("reason") if isinstance(options, dict) else None
    return _set_paused(shop, True, reason if isinstance(reason, str) else None)


@bp.post("/shops/<shop>/resume")
def resume_shop(shop: str) -> Any:
    return _set_paused(shop, False, None)


def _set_paused(shop: str, paused: bool, reason: str | None) -> Any:
    runtime = current_runtime()
    session = get_session(write=True)
    with session.begin():
        state = operations.set_paused(session, runtime.settings, shop, paused, reason=reason,
                                      actor=request.environ["bridge.admin"])
        view = shop_view(shop, state, None)
    runtime.wake.set()
    return jsonify(view)
