"""``/admin/api``: see and repair sync rows. Thin handlers over ``bridge.operations``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from bridge import operations
from bridge.admin.auth import require_admin
from bridge.admin.openapi import openapi_document
from bridge.admin.params import (
    OrderIdConverter,
    body_field,
    iso_datetime,
    json_body,
    optional_body,
    order_ids_field,
    query_limit,
)
from bridge.admin.views import attempt_view, delivery_view, event_view, row_view, shop_view
from bridge.errors import RefusalKind, Refused, invalid
from bridge.intake import backlog
from bridge.storage import queries
from bridge.storage.models import Delivery, DispatchAttempt, ShopState, SyncEvent
from bridge.storage.states import SyncState
from bridge.web.runtime import current_runtime, get_session

bp = Blueprint("admin", __name__, url_prefix="/admin/api")
# before the routes below: their rules use it
bp.record_once(lambda state: state.app.url_map.converters.setdefault("order_id",
                                                                      OrderIdConverter))

#: The one route without a token: the API's description holds no data, and tools need it to
#: learn how to authenticate.
_PUBLIC_ENDPOINT = "admin.openapi_json"


@bp.before_request
def _authenticate() -> None:
    if request.endpoint == _PUBLIC_ENDPOINT:
        return
    request.environ["bridge.admin"] = require_admin()


@bp.get("/openapi.json")
def openapi_json() -> Any:
    """The OpenAPI 3.1 description of this API (``bridge/admin/openapi.py``)."""
    return jsonify(openapi_document(server_url=f"{request.script_root}{bp.url_prefix}"))


@bp.get("/orders")
def list_orders() -> Any:
    """Sync rows, most recently changed first; filters and keyset pagination (cursor)."""
    args = request.args
    states = [s for s in args.getlist("state") for s in s.split(",") if s]
    unknown = sorted(set(states) - {s.value for s in SyncState})
    if unknown:
        raise invalid("state", f"unknown state {unknown[0]!r}")
    where = queries.RowFilter(
        shop=args.get("shop") or None, states=states,
        created_after=iso_datetime(args, "created_after"),
        created_before=iso_datetime(args, "created_before"),
        updated_after=iso_datetime(args, "updated_after"),
        updated_before=iso_datetime(args, "updated_before"),
        search=args.get("q") or None,
    )
    rows, cursor = queries.list_rows(get_session(), where, limit=query_limit(args),
                                     cursor=args.get("cursor") or None)
    return jsonify({"orders": [row_view(row) for row in rows], "next_cursor": cursor})


@bp.post("/resync")
def resync_bulk() -> Any:
    """Resync a list of orders ({"shop", "order_ids"}) or every order of a shop in a state
    ({"shop", "state"}); answers how many were queued and which were refused, and why."""
    runtime = current_runtime()
    body = json_body()
    shop = body_field(body, "shop", str)
    order_ids = order_ids_field(body)
    state = body_field(body, "state", str, required=order_ids is None)
    force = bool(body_field(body, "force", bool, required=False))
    result = operations.resync_many(runtime.db, runtime.settings, runtime.upstreams, shop,
                                    order_ids=order_ids, state=state, force=force,
                                    actor=request.environ["bridge.admin"])
    runtime.wake.set()
    return jsonify({"queued": len(result.queued), "order_ids": result.queued,
                    "refused": result.refused}), 202


@bp.post("/orders/<shop>/<order_id:order_id>/skip")
def skip_order(shop: str, order_id: int) -> Any:
    reason = body_field(json_body(), "reason", str)
    session = get_session(write=True)
    with session.begin():
        row = operations.skip(session, shop, order_id, reason=reason,
                              actor=request.environ["bridge.admin"])
        view = row_view(row)
    return jsonify({"order": view})


@bp.post("/orders/<shop>/<order_id:order_id>/acknowledge")
def acknowledge_order(shop: str, order_id: int) -> Any:
    body = json_body()
    session = get_session(write=True)
    with session.begin():
        row = operations.acknowledge(
            session, shop, order_id,
            invoice_id=body_field(body, "invoice_id", str, required=False),
            note=body_field(body, "note", str, required=False),
            actor=request.environ["bridge.admin"])
        view = row_view(row)
    return jsonify({"order": view})


@bp.get("/orders/<shop>/<order_id:order_id>")
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
        "events": [event_view(e) for e in events],
    })


@bp.post("/orders/<shop>/<order_id:order_id>/resync")
def resync_order(shop: str, order_id: int) -> Any:
    runtime = current_runtime()
    # force may create a second invoice: only a real JSON true counts, anything else is a 400
    force = bool(body_field(optional_body(), "force", bool, required=False))
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
    counts = queries.counts_by_state(session)
    states = {s.shop: s for s in session.execute(select(ShopState)).scalars()}
    return jsonify({"shops": [shop_view(shop, states.get(shop), counts.get(shop, {}))
                              for shop in settings.shops]})


@bp.post("/shops/<shop>/pause")
def pause_shop(shop: str) -> Any:
    reason = body_field(optional_body(), "reason", str, required=False)
    return _set_paused(shop, True, reason)


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


# --- deliveries (the intake) ------------------------------------------------------------------


@bp.get("/deliveries")
def list_deliveries() -> Any:
    """Stored deliveries, newest first; ``status=quarantined`` lists the ones whose
    processing failed too often, each with its reason."""
    args = request.args
    status = args.get("status") or None
    if status is not None and status not in backlog.STATUSES:
        raise invalid("status", f"must be one of {', '.join(backlog.STATUSES)}")
    cursor = args.get("cursor") or None
    if cursor is not None and not (cursor.isascii() and cursor.isdigit() and len(cursor) < 19):
        raise invalid("cursor", "not a cursor this API returned")
    rows, next_id = backlog.list_deliveries(
        get_session(), status=status, shop=args.get("shop") or None, limit=query_limit(args),
        before_id=int(cursor) if cursor else None)
    return jsonify({"deliveries": [delivery_view(row) for row in rows],
                    "next_cursor": str(next_id) if next_id is not None else None})


@bp.post("/deliveries/<delivery_id>/retry")
def retry_delivery(delivery_id: str) -> Any:
    """Process a quarantined delivery again (after fixing what made it fail)."""
    # ASCII digits only: Flask's int converter would also take "١١٨٧" as 1187
    if not (delivery_id.isascii() and delivery_id.isdigit() and len(delivery_id) < 19):
        raise Refused("not_found", "no such delivery", RefusalKind.NOT_FOUND)
    runtime = current_runtime()
    session = get_session(write=True)
    with session.begin():
        delivery = session.get(Delivery, int(delivery_id), with_for_update=True)
        if delivery is None:
            raise Refused("not_found", f"no delivery {delivery_id}", RefusalKind.NOT_FOUND)
        if delivery.status != backlog.QUARANTINED:
            raise Refused("not_quarantined",
                          f"delivery {delivery_id} is {delivery.status}, not quarantined")
        backlog.retry(delivery)
        view = delivery_view(delivery)
    runtime.wake.set()
    return jsonify({"delivery": view}), 202
