"""``/admin/api``: see and repair sync rows. Thin handlers over ``bridge.operations``: input is
loaded and answers are dumped by the schemas of ``bridge.admin.schemas``, the ones the OpenAPI
document (``bridge.admin.openapi``) is generated from."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.blueprints import BlueprintSetupState
from sqlalchemy import select

from bridge import operations
from bridge.admin import schemas
from bridge.admin.auth import require_admin
from bridge.admin.openapi import openapi_document
from bridge.admin.params import OrderIdConverter, load_body, load_query
from bridge.admin.views import shop_view
from bridge.errors import RefusalKind, Refused
from bridge.intake import backlog
from bridge.storage import queries
from bridge.storage.models import Delivery, DispatchAttempt, ShopState, SyncEvent
from bridge.web.runtime import current_runtime, get_session

bp = Blueprint("admin", __name__, url_prefix="/admin/api")


# registered before the routes below: their rules use it
@bp.record_once
def _register_order_id_converter(state: BlueprintSetupState) -> None:
    state.app.url_map.converters.setdefault("order_id", OrderIdConverter)


#: The one route without a token: the API's description holds no data, and tools need it to
#: learn how to authenticate.
_PUBLIC_ENDPOINT = "admin.openapi_json"


@bp.before_request
def _authenticate() -> None:
    if request.endpoint == _PUBLIC_ENDPOINT:
        return
    request.environ["bridge.admin"] = require_admin()


def _actor() -> str:
    actor: str = request.environ["bridge.admin"]
    return actor


@bp.get("/openapi.json")
def openapi_json() -> Any:
    """The OpenAPI 3.1 description of this API (``bridge/admin/openapi.py``)."""
    return jsonify(openapi_document(server_url=f"{request.script_root}{bp.url_prefix}"))


@bp.get("/orders")
def list_orders() -> Any:
    """Sync rows, most recently changed first; filters and keyset pagination (cursor)."""
    query = load_query(schemas.OrderListQuery)
    where = queries.RowFilter(
        shop=query.get("shop") or None, states=query.get("state", []),
        created_after=query.get("created_after"), created_before=query.get("created_before"),
        updated_after=query.get("updated_after"), updated_before=query.get("updated_before"),
        search=query.get("q") or None,
    )
    rows, cursor = queries.list_rows(get_session(), where, limit=query["limit"],
                                     cursor=query.get("cursor") or None)
    return jsonify(schemas.OrderList().dump({"orders": rows, "next_cursor": cursor}))


@bp.post("/resync")
def resync_bulk() -> Any:
    """Resync a list of orders ({"shop", "order_ids"}) or every order of a shop in a state
    ({"shop", "state"}); answers how many were queued and which were refused, and why."""
    runtime = current_runtime()
    body = load_body(schemas.BulkResyncRequest, required=True)
    result = operations.resync_many(
        runtime.db, runtime.settings, runtime.upstreams, body["shop"],
        order_ids=body.get("order_ids"), state=body.get("state"),
        force=body.get("force", False), actor=_actor())
    runtime.wake.set()
    return jsonify(schemas.BulkResyncResult().dump({
        "queued": len(result.queued), "order_ids": result.queued, "refused": result.refused,
    })), 202


@bp.post("/orders/<shop>/<order_id:order_id>/skip")
def skip_order(shop: str, order_id: int) -> Any:
    body = load_body(schemas.SkipRequest, required=True)
    session = get_session(write=True)
    with session.begin():
        row = operations.skip(session, shop, order_id, reason=body["reason"], actor=_actor())
        answer = schemas.OrderResult().dump({"order": row})
    return jsonify(answer)


@bp.post("/orders/<shop>/<order_id:order_id>/acknowledge")
def acknowledge_order(shop: str, order_id: int) -> Any:
    body = load_body(schemas.AcknowledgeRequest, required=False)
    session = get_session(write=True)
    with session.begin():
        row = operations.acknowledge(session, shop, order_id, invoice_id=body.get("invoice_id"),
                                     note=body.get("note"), actor=_actor())
        answer = schemas.OrderResult().dump({"order": row})
    return jsonify(answer)


@bp.get("/orders/<shop>/<order_id:order_id>")
def get_order(shop: str, order_id: int) -> Any:
    session = get_session()
    row = operations.get_row(session, shop, order_id)
    attempts = session.execute(select(DispatchAttempt).where(DispatchAttempt.sync_id == row.id)
                               .order_by(DispatchAttempt.id.desc()).limit(100)).scalars()
    deliveries = session.execute(
        select(Delivery).where(Delivery.shop == row.shop, Delivery.order_id == order_id)
        .order_by(Delivery.id.desc()).limit(100)).scalars()
    events = session.execute(select(SyncEvent).where(SyncEvent.sync_id == row.id)
                             .order_by(SyncEvent.id.desc()).limit(100)).scalars()
    return jsonify(schemas.OrderDetail().dump({
        "order": row, "attempts": list(attempts), "deliveries": list(deliveries),
        "events": list(events),
    }))


@bp.post("/orders/<shop>/<order_id:order_id>/resync")
def resync_order(shop: str, order_id: int) -> Any:
    runtime = current_runtime()
    # force may create a second invoice: only a real JSON true counts, anything else is a 400
    body = load_body(schemas.ResyncOptions, required=False)
    session = get_session(write=True)
    with session.begin():
        result = operations.resync(session, runtime.settings, runtime.upstreams, shop, order_id,
                                   force=body.get("force", False), actor=_actor())
        answer = schemas.ResyncQueued().dump({"queued": 1, "order": result.row,
                                              "remapped": result.remapped})
    runtime.wake.set()
    return jsonify(answer), 202


@bp.get("/shops")
def list_shops() -> Any:
    """Every configured shop: paused or not (and why), and its rows counted by state."""
    session = get_session()
    settings = current_runtime().settings
    counts = queries.counts_by_state(session)
    tasks = queries.tasks_by_state(session)
    states = {s.shop: s for s in session.execute(select(ShopState)).scalars()}
    return jsonify(schemas.ShopList().dump({"shops": [
        shop_view(shop, states.get(shop), counts.get(shop, {}),
                  tasks.get(shop, {}).get(queries.WRITEBACK_KIND, {}))
        for shop in settings.shops]}))


@bp.post("/shops/<shop>/pause")
def pause_shop(shop: str) -> Any:
    body = load_body(schemas.PauseRequest, required=False)
    return _set_paused(shop, True, body.get("reason"))


@bp.post("/shops/<shop>/resume")
def resume_shop(shop: str) -> Any:
    return _set_paused(shop, False, None)


def _set_paused(shop: str, paused: bool, reason: str | None) -> Any:
    runtime = current_runtime()
    session = get_session(write=True)
    with session.begin():
        state = operations.set_paused(session, runtime.settings, shop, paused, reason=reason,
                                      actor=_actor())
        answer = schemas.Shop().dump(shop_view(shop, state, None))
    runtime.wake.set()
    return jsonify(answer)


# --- deliveries (the intake) ------------------------------------------------------------------


@bp.get("/deliveries")
def list_deliveries() -> Any:
    """Stored deliveries, newest first; ``status=quarantined`` lists the ones whose
    processing failed too often, each with its reason."""
    query = load_query(schemas.DeliveryListQuery)
    cursor = query.get("cursor")
    rows, next_id = backlog.list_deliveries(
        get_session(), status=query.get("status"), shop=query.get("shop") or None,
        limit=query["limit"], before_id=int(cursor) if cursor else None)
    return jsonify(schemas.DeliveryList().dump({
        "deliveries": rows, "next_cursor": str(next_id) if next_id is not None else None}))


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
        answer = schemas.DeliveryResult().dump({"delivery": delivery})
    runtime.wake.set()
    return jsonify(answer), 202
