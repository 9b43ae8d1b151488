"""Writing to orders, as WooCommerce's REST API does it: ``PUT``/``POST``/``PATCH
/wc/v3/orders/<id>`` (here: ``meta_data`` and ``status``) and the order notes
(``GET``/``POST /wc/v3/orders/<id>/notes``, ``GET .../notes/<note id>``).

What follows WooCommerce (``WC_REST_CRUD_Controller``, ``WC_REST_Orders_V2_Controller``,
``WC_REST_Order_Notes_V1/V2_Controller``, ``WC_Data::update_meta_data``):

- the key's own permission first (``WC_REST_Authentication::check_permissions``, before any
  route): a ``read`` key writing answers 401 ``woocommerce_rest_authentication_error`` "The
  API key provided does not have write permissions." (``app``); then the route's check of
  the key's WordPress user: one that may not edit orders answers
  ``woocommerce_rest_cannot_edit`` (notes: ``woocommerce_rest_cannot_create``) with 403, as
  ``rest_authorization_required_code()`` gives a logged-in user;
- an order that does not exist: update 400 ``woocommerce_rest_shop_order_invalid_id``
  "Invalid ID."; notes 404 ``woocommerce_rest_order_invalid_id`` "Invalid order ID."
  (create, single note) or 404 ``woocommerce_rest_shop_order_invalid_id`` (list); a note of
  another order 404 ``woocommerce_rest_invalid_id`` "Invalid resource ID.";
- ``note`` is required: 400 ``rest_missing_callback_param`` "Missing parameter(s): note";
- ``meta_data``: an entry with an ``id`` of the order's updates that entry; else the first
  entry with its ``key`` takes the value and any others with that key are removed; else a new
  entry (with a new id) is added. A save that changes the order moves its
  ``date_modified``; every save fires ``woocommerce_update_order`` (``order.updated``);
- notes are listed newest first, all of them (no paging), with ``id``, ``author``,
  ``date_created(_gmt)``, ``note`` and ``customer_note`` (no ``_links``: a simplification);
  adding a note does not
  save the order (no webhook).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sandbox.woocommerce.rest_simulator.responses import WpError
from sandbox.woocommerce.rest_simulator.state import ApiKey, RestSimulatorState

_EDITABLE_STATUSES_MESSAGE = "status is not one of {}."


def cannot_edit() -> WpError:
    return WpError("woocommerce_rest_cannot_edit",
                   "Sorry, you are not allowed to edit this resource.", 403)


def update_order(state: RestSimulatorState, user: ApiKey, order_id: int,
                 body: dict[str, Any]) -> dict[str, Any]:
    order = state.order(order_id)
    if order is not None and not user.can_edit_orders:
        raise cannot_edit()
    if order is None or order_id == 0:
        raise WpError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 400)
    meta = body.get("meta_data")
    if meta is not None and not (isinstance(meta, list)
                                 and all(isinstance(entry, dict) for entry in meta)):
        raise WpError("rest_invalid_param", "Invalid parameter(s): meta_data", 400,
                      params={"meta_data": "meta_data[0] is not of type object."})
    status = body.get("status")
    if status is not None and status not in state.statuses:
        raise WpError("rest_invalid_param", "Invalid parameter(s): status", 400, params={
            "status": _EDITABLE_STATUSES_MESSAGE.format(", ".join(state.statuses))})
    return state.save_order(order_id, meta or [], status)


def list_notes(state: RestSimulatorState, user: ApiKey, order_id: int) -> list[dict[str, Any]]:
    if state.order(order_id) is None:
        raise WpError("woocommerce_rest_shop_order_invalid_id", "Invalid order ID.", 404)
    return state.notes(order_id)


def get_note(state: RestSimulatorState, order_id: int, note_id: int) -> dict[str, Any]:
    if state.order(order_id) is None:
        raise WpError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
    for note in state.notes(order_id):
        if note["id"] == note_id:
            return note
    raise WpError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)


def add_note(state: RestSimulatorState, user: ApiKey, order_id: int,
             body: dict[str, Any]) -> dict[str, Any]:
    note = body.get("note")
    if note is None:
        raise WpError("rest_missing_callback_param", "Missing parameter(s): note", 400,
                      params=["note"])
    if not isinstance(note, str):
        raise WpError("rest_invalid_param", "Invalid parameter(s): note", 400,
                      params={"note": "note is not of type string."})
    customer = body.get("customer_note", False)
    if not isinstance(customer, bool):
        raise WpError("rest_invalid_param", "Invalid parameter(s): customer_note", 400,
                      params={"customer_note": "customer_note is not of type boolean."})
    if not user.can_edit_orders:
        raise WpError("woocommerce_rest_cannot_create",
                      "Sorry, you are not allowed to create resources.", 403)
    if state.order(order_id) is None:
        raise WpError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
    return state.add_note(order_id, note, customer_note=customer,
                          by_user=body.get("added_by_user") is True)


def now_gmt(state: RestSimulatorState) -> str:
    return datetime.fromtimestamp(state.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S")
