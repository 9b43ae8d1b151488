"""The OpenAPI 3.1 description of ``/admin/api``, as plain Python data.

Served (without a token: it holds no data) at ``GET /admin/api/openapi.json``. Every schema
lives once under ``components`` and is reused by ``$ref``; the shapes mirror
``bridge/admin/views.py`` and ``tests/integration/test_openapi.py`` checks real responses
against them, and the documented operations against the routes Flask registers.
"""

from __future__ import annotations

from typing import Any

from bridge.admin.params import MAX_BULK_ORDER_IDS, MAX_LIMIT
from bridge.order_ids import MAX_ORDER_ID
from bridge.storage.states import SyncState

#: Where the blueprint is mounted; the document's paths are relative to it.
API_PREFIX = "/admin/api"

Schema = dict[str, Any]

_STATES = [state.value for state in SyncState]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(type_name: str, **extra: Any) -> Schema:
    return {"type": [type_name, "null"], **extra}


def _timestamp(description: str, *, nullable: bool = True) -> Schema:
    return {"type": ["string", "null"] if nullable else "string", "format": "date-time",
            "description": description}


def _object(properties: dict[str, Schema], *, required: list[str] | None = None,
            description: str | None = None, closed: bool = True) -> Schema:
    """An object schema; response objects are ``closed`` (no undocumented fields), so the
    tests notice a field added to a view but not to this document."""
    schema: Schema = {"type": "object", "properties": properties,
                      "required": list(properties) if required is None else required}
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


def _json(schema: Schema) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _ok(description: str, schema: Schema) -> dict[str, Any]:
    return {"description": description, "content": _json(schema)}


def _error(description: str, *codes: str) -> dict[str, Any]:
    """An error response: the shared ``Error`` shape, with ``error.code`` narrowed to the
    codes this operation can answer with this status."""
    schema: Schema = {"allOf": [_ref("Error")],
                      "properties": {"error": {"properties": {"code": {"enum": list(codes)}}}}}
    return {"description": description, "content": _json(schema)}


_UNAUTHORIZED = {"$ref": "#/components/responses/Unauthorized"}


def _body(schema_name: str, description: str, *, required: bool) -> dict[str, Any]:
    return {"required": required, "description": description,
            "content": _json(_ref(schema_name))}


# --- components ---------------------------------------------------------------------------


def _schemas() -> dict[str, Schema]:
    # a content fingerprint: "2:" and 62 hex digits, or 64 hex digits for rows written before
    # version 2 (bridge/mapping/fingerprint.py)
    sha256 = {"pattern": "^([0-9a-f]{64}|2:[0-9a-f]{62})$"}
    return {
        "SyncState": {
            "type": "string", "enum": _STATES,
            "description": (
                "Where an order is on its way to an invoice (docs/states.md). `pending`: due "
                "to be sent; `sending`: a worker holds a lease and is calling the upstream; "
                "`retrying`: a transient failure, `next_attempt_at` says when; `synced`: the "
                "upstream holds the invoice; `review`: a person must look (the outcome of a "
                "send is unknown, or the order changed after invoicing) -- acknowledge or "
                "resync; `failed`: the upstream refused it or retries ran out; `invalid`: "
                "cannot be turned into an invoice, `last_error` names every field; "
                "`skipped`: not to be invoiced (status, deleted, operator)."),
        },
        "SyncRow": _object({
            "id": {"type": "integer", "description": "The sync row's own id."},
            "shop": {"type": "string", "description": "Shop id from the configuration."},
            "order_id": {"type": "integer", "minimum": 0,
                         "description": "The WooCommerce order id."},
            "order_number": _nullable("string", description="The order number the shop "
                                      "shows (may differ from the id)."),
            "order_status": _nullable("string", description="WooCommerce status of the latest "
                                      "snapshot (processing, completed, on-hold, ...)."),
            "state": _ref("SyncState"),
            "upstream": {"type": "string", "description": "Invoicing service kind, e.g. econt."},
            "invoice_id": _nullable("string", description="The upstream's invoice id, once "
                                    "known (or as recorded by an acknowledge)."),
            "invoice_number": _nullable("string"),
            "attempts": {"type": "integer", "minimum": 0,
                         "description": "Attempts that count towards max_attempts; reset by "
                                        "a resync."},
            "next_attempt_at": _timestamp("When a pending/retrying row is due."),
            "first_attempt_at": _timestamp("First attempt since the row was last queued "
                                           "(max_age counts from here)."),
            "last_error": _nullable("string", description="Why the row is where it is."),
            "last_http_status": _nullable("integer", description="HTTP status of the latest "
                                          "upstream answer."),
            "content_hash": _nullable("string", **sha256,
                                      description="Fingerprint of the invoice the latest "
                                                  "snapshot maps to."),
            "synced_hash": _nullable("string", **sha256,
                                     description="Fingerprint of what the upstream accepted; "
                                                 "set means an invoice exists, so resync "
                                                 "needs force."),
            "snapshot_modified_at": _timestamp("date_modified_gmt of the latest applied "
                                               "snapshot; older ones never overwrite it."),
            "deleted_in_shop": {"type": "boolean"},
            "lease_owner": _nullable("string", description="The worker sending it right now."),
            "lease_until": _timestamp("When that worker's lease runs out."),
            "synced_at": _timestamp("When the upstream accepted the invoice."),
            "created_at": _timestamp("When the bridge first heard of the order.",
                                     nullable=False),
            "updated_at": _timestamp("Last change; lists sort on it.", nullable=False),
            "payload": {
                "type": ["object", "null"],
                "description": "The rendered upstream request body (no credentials) for the "
                               "latest snapshot. Only in `GET /orders/{shop}/{order_id}`.",
            },
        }, required=[
            "id", "shop", "order_id", "order_number", "order_status", "state", "upstream",
            "invoice_id", "invoice_number", "attempts", "next_attempt_at", "first_attempt_at",
            "last_error", "last_http_status", "content_hash", "synced_hash",
            "snapshot_modified_at", "deleted_in_shop", "lease_owner", "lease_until",
            "synced_at", "created_at", "updated_at",
        ], description="One order's sync row: one per (shop, order id)."),
        "Attempt": _object({
            "id": {"type": "integer"},
            "started_at": _timestamp("When the call started.", nullable=False),
            "duration_ms": _nullable("number", minimum=0),
            "worker": _nullable("string", description="Worker id (host:pid:random)."),
            "outcome": {"type": "string", "description": (
                "created | exists (the upstream already had it) | retry | retry_unknown "
                "(retrying, but the first try may have created the invoice) | throttled "
                "(429) | paused (401/403/404: the shop was paused) | ambiguous (outcome "
                "unknown, row in review) | rejected | gave_up | interrupted (worker stopped "
                "mid-send) | late_created | late (an answer after the lease was lost) | "
                "throttle_unknown, paused_unknown (throttled, paused, from an answer that was "
                "not the upstream's own: the invoice may exist) | withdrawn (failed while the "
                "order was deleted or left invoice_statuses: row skipped, or in review)")},
            "http_status": _nullable("integer"),
            "error": _nullable("string"),
            "invoice_id": _nullable("string"),
        }, description="One call made to the upstream for a row."),
        "Delivery": _object({
            "id": {"type": "integer"},
            "shop": {"type": "string"},
            "order_id": _nullable("integer", description="The order it was about, once "
                                  "processing could read it."),
            "source": {"type": "string",
                       "description": "webhook | backfill | spool (imported after a "
                                      "database outage)"},
            "received_at": _timestamp("When the bridge received it.", nullable=False),
            "topic": _nullable("string", description="e.g. order.created"),
            "wc_delivery_id": _nullable("string", description="X-WC-Webhook-Delivery-ID "
                                        "(for support; WooCommerce repeats them)."),
            "status": {"type": "string", "enum": ["received", "processed", "quarantined"],
                       "description": "received (waiting to be processed) | processed | "
                                      "quarantined (processing failed too often; `reason` "
                                      "says why)"},
            "outcome": _nullable("string", description=(
                "What processing made of it: applied | unchanged | stale | ignored | invalid "
                "| error_payload (error: an exception recorded by older versions)")),
            "reason": _nullable("string", description="Why (bounded to a few KB)."),
            "tries": {"type": "integer", "minimum": 0,
                      "description": "Processing tries that failed (not counting database "
                                     "outages); at 5 the delivery is quarantined."},
            "body_bytes": {"type": "integer", "minimum": 0},
        }, description="A webhook (or backfill) delivery, as received, and what processing "
                       "made of it."),
        "Event": _object({
            "at": _timestamp("When it happened.", nullable=False),
            "kind": {"type": "string",
                     "description": "snapshot | state | operator | reaper"},
            "detail": {"type": "string"},
        }, description="Something that happened to a row besides attempts (snapshots, "
                       "state changes, operator actions with the caller)."),
        "Shop": _object({
            "shop": {"type": "string"},
            "paused": {"type": "boolean"},
            "paused_reason": _nullable("string"),
            "paused_at": _timestamp("When dispatch was paused."),
            "rows_by_state": {
                "type": "object", "propertyNames": _ref("SyncState"),
                "additionalProperties": {"type": "integer", "minimum": 1},
                "description": "Rows counted by state; states without rows are absent. "
                               "Only in `GET /shops`.",
            },
        }, required=["shop", "paused", "paused_reason", "paused_at"],
            description="A configured shop and whether its dispatch is paused."),
        "Error": _object({
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "string", "description": "Stable, machine-readable."},
                    "message": {"type": "string", "description": "For people; names the "
                                "field for input errors."},
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        "description": "invalid_order only: each unmappable field of the "
                                       "order and why.",
                    },
                },
                "required": ["code", "message"],
            },
        }, description="Every error, on every endpoint."),
        "RefusedOrder": _object({
            "order_id": {"type": "integer"},
            "code": {"type": "string", "enum": [
                "not_found", "sending", "already_invoiced", "deleted_in_shop",
                "status_not_invoiced", "no_snapshot", "invalid_order"]},
            "message": {"type": "string"},
            "fields": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
                "description": "invalid_order only: each unmappable field and why.",
            },
        }, required=["order_id", "code", "message"],
            description="An order a bulk resync did not queue, and why (the codes of the "
                        "single-order resync)."),
        "OrderList": _object({
            "orders": {"type": "array", "items": _ref("SyncRow")},
            "next_cursor": _nullable("string", description="Pass as `cursor` (with the same "
                                     "filters) for the next page; null on the last page."),
        }),
        "OrderDetail": _object({
            "order": {"allOf": [_ref("SyncRow")], "required": ["payload"]},
            "attempts": {"type": "array", "items": _ref("Attempt"),
                         "description": "Newest first, at most 100."},
            "deliveries": {"type": "array", "items": _ref("Delivery"),
                           "description": "Newest first, at most 100."},
            "events": {"type": "array", "items": _ref("Event"),
                       "description": "Newest first, at most 100."},
        }),
        "OrderResult": _object({"order": _ref("SyncRow")}),
        "DeliveryList": _object({
            "deliveries": {"type": "array", "items": _ref("Delivery")},
            "next_cursor": _nullable("string", description="Pass as `cursor` for the next "
                                     "page; null on the last."),
        }),
        "DeliveryResult": _object({"delivery": _ref("Delivery")}),
        "ResyncQueued": _object({
            "queued": {"const": 1},
            "order": _ref("SyncRow"),
            "remapped": {"type": "boolean", "description": (
                "True: re-mapped from the latest stored snapshot with today's configuration. "
                "False: no snapshot was found, the stored payload is sent as it is.")},
        }),
        "BulkResyncResult": _object({
            "queued": {"type": "integer", "minimum": 0},
            "order_ids": {"type": "array", "items": {"type": "integer"},
                          "description": "The orders queued."},
            "refused": {"type": "array", "items": _ref("RefusedOrder")},
        }),
        "ShopList": _object({
            "shops": {"type": "array",
                      "items": {"allOf": [_ref("Shop")], "required": ["rows_by_state"]},
                      "description": "In configuration order."},
        }),
        # request bodies: unknown fields are ignored, so these are open
        "ResyncOptions": _object({
            "force": {"type": "boolean", "default": False, "description": (
                "Send even though an invoice may already exist upstream, the order was "
                "deleted in the shop, or its status does not invoice.")},
        }, required=[], closed=False),
        "SkipRequest": _object({
            "reason": {"type": "string", "minLength": 1, "pattern": r"\S",
                       "description": "Why it is not to be invoiced; kept on the row."},
        }, closed=False),
        "AcknowledgeRequest": _object({
            "invoice_id": {"type": "string", "pattern": r"\S",
                           "description": "The invoice's id in the upstream, if you have it."},
            "note": {"type": "string", "pattern": r"\S",
                     "description": "Recorded in the row's events."},
        }, required=[], closed=False),
        "BulkResyncRequest": {
            "type": "object",
            "properties": {
                "shop": {"type": "string", "pattern": r"\S"},
                "order_ids": {"type": "array", "minItems": 1, "maxItems": MAX_BULK_ORDER_IDS,
                              "items": {"type": "integer", "minimum": 1,
                                        "maximum": MAX_ORDER_ID}},
                "state": {"allOf": [_ref("SyncState")], "not": {"const": "sending"},
                          "description": "Every order of the shop in this state; ignored "
                                         "when order_ids is given."},
                "force": {"type": "boolean", "default": False,
                          "description": "As for the single-order resync."},
            },
            "required": ["shop"],
            "anyOf": [{"required": ["order_ids"]}, {"required": ["state"]}],
            "description": "Either `order_ids` or `state` (order_ids wins if both are given).",
        },
        "PauseRequest": _object({
            "reason": {"type": "string",
                       "description": "Shown in `paused_reason`; defaults to "
                                      "\"paused by <caller>\"."},
        }, required=[], closed=False),
    }


def _parameters() -> dict[str, Schema]:
    def query(name: str, schema: Schema, description: str) -> Schema:
        return {"name": name, "in": "query", "required": False, "schema": schema,
                "description": description}

    iso = {"type": "string", "examples": ["2026-11-22T10:00:00Z"]}
    iso_note = ("ISO 8601 date-time, e.g. 2026-11-22T10:00:00Z; without an offset it is UTC, "
                "a date alone is midnight UTC.")
    state_list = f"^({'|'.join(_STATES)})(,({'|'.join(_STATES)}))*$"
    return {
        "Shop": {"name": "shop", "in": "path", "required": True,
                 "schema": {"type": "string", "pattern": "^[^/]+$"},
                 "description": "Shop id from the configuration."},
        "OrderId": {"name": "order_id", "in": "path", "required": True,
                    "schema": {"type": "integer", "format": "int64", "minimum": 1,
                               "maximum": MAX_ORDER_ID},
                    "description": "The WooCommerce order id, in ASCII digits (anything else "
                                   "is a 400 naming `order_id`)."},
        "ShopFilter": query("shop", {"type": "string"}, "Only this shop's orders."),
        "StateFilter": {
            **query("state", {"type": "array", "items": {"anyOf": [
                _ref("SyncState"), {"type": "string", "pattern": state_list}]}},
                "Only orders in these states: repeat the parameter or give a comma list "
                "(`state=failed,review`). An unknown state is a 400."),
            "style": "form", "explode": True,
        },
        "CreatedAfter": query("created_after", iso, f"created_at >= this. {iso_note}"),
        "CreatedBefore": query("created_before", iso, f"created_at < this. {iso_note}"),
        "UpdatedAfter": query("updated_after", iso, f"updated_at >= this. {iso_note}"),
        "UpdatedBefore": query("updated_before", iso, f"updated_at < this. {iso_note}"),
        "Search": query("q", {"type": "string"},
                        "The order number contains this, or (all digits) the order id is it."),
        "Limit": query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                 "default": 50}, "Page size."),
        "Cursor": query("cursor", {"type": "string"},
                        "`next_cursor` from the previous page (opaque)."),
        "DeliveryStatusFilter": query(
            "status", {"type": "string", "enum": ["received", "processed", "quarantined"]},
            "Only deliveries in this status; `quarantined` lists the ones that need a person."),
        "DeliveryShopFilter": query("shop", {"type": "string"}, "Only this shop's deliveries."),
        "DeliveryId": {"name": "delivery_id", "in": "path", "required": True,
                       "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                       "description": "The delivery's id (`id` in a Delivery)."},
    }


def _components() -> dict[str, Any]:
    return {
        "schemas": _schemas(),
        "parameters": _parameters(),
        "responses": {
            "Unauthorized": _error("No `Authorization: Bearer <token>` header, or the token "
                                   "is not one of `admin.tokens`.", "unauthorized"),
        },
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer",
                           "description": "One of the tokens configured in `admin.tokens`."},
        },
    }


# --- operations ----------------------------------------------------------------------------


def _param(name: str) -> Schema:
    return {"$ref": f"#/components/parameters/{name}"}


_ORDER_PATH = [_param("Shop"), _param("OrderId")]
_NO_ROW = "No sync row for this order of this shop (`not_found`)."
_BAD_ORDER_ID = "`order_id` is not a whole number from 1 to 2^63 - 1 in ASCII digits."

_RESYNC_RULES = (
    "Without `force` it is refused (409) when it could create a second invoice or invoice "
    "what should not be: `already_invoiced` -- the upstream already accepted an invoice for "
    "this order (`synced_hash` is set; this includes rows in review because the order "
    "changed after invoicing), and e-Cont.md documents no way to amend an invoice, so "
    "another send may create a second one; `deleted_in_shop` -- the order was trashed in "
    "the shop; `status_not_invoiced` -- the latest snapshot's WooCommerce status is not in "
    "the shop's `invoice_statuses`. Always refused: `sending` -- a worker is calling the "
    "upstream right now, try again in a minute; `no_snapshot` -- nothing to send, backfill "
    "the order from the shop first.")


def _paths() -> dict[str, Any]:
    return {
        "/openapi.json": {"get": {
            "operationId": "getOpenApiDocument", "tags": ["meta"],
            "summary": "This document",
            "description": "Needs no token: it describes the API and holds no data.",
            "security": [],
            "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                                  "content": {"application/json": {"schema": {
                                      "type": "object", "required": ["openapi", "paths"]}}}}},
        }},
        "/orders": {"get": {
            "operationId": "listOrders", "tags": ["orders"],
            "summary": "List sync rows",
            "description": (
                "Sync rows, most recently changed first (`updated_at`, then `id`, "
                "descending). Keyset pagination: pass `next_cursor` back as `cursor` with the "
                "same filters; it is stable however deep you page. Filters combine with AND."),
            "parameters": [_param(name) for name in (
                "ShopFilter", "StateFilter", "CreatedAfter", "CreatedBefore", "UpdatedAfter",
                "UpdatedBefore", "Search", "Limit", "Cursor")],
            "responses": {
                "200": _ok("A page of rows (without `payload`).", _ref("OrderList")),
                "400": _error("A filter is malformed; the message names it (`state`, `limit`, "
                              "a date, `cursor`).", "bad_request"),
                "401": _UNAUTHORIZED,
            },
        }},
        "/orders/{shop}/{order_id}": {"get": {
            "operationId": "getOrder", "tags": ["orders"],
            "summary": "One order's full story",
            "description": "The row with its rendered `payload`, and the latest 100 attempts, "
                           "deliveries and events, newest first.",
            "parameters": _ORDER_PATH,
            "responses": {
                "200": _ok("The order.", _ref("OrderDetail")),
                "400": _error(_BAD_ORDER_ID, "bad_request"),
                "401": _UNAUTHORIZED,
                "404": _error(_NO_ROW, "not_found"),
            },
        }},
        "/orders/{shop}/{order_id}/resync": {"post": {
            "operationId": "resyncOrder", "tags": ["orders"],
            "summary": "Queue an order to be sent again",
            "description": (
                "Moves the row to `pending` (attempts reset) after re-mapping it from the "
                "latest stored snapshot with today's configuration, so a fixed setting takes "
                "effect. A worker sends it; 202 means queued, not sent. " + _RESYNC_RULES),
            "parameters": _ORDER_PATH,
            "requestBody": _body("ResyncOptions", "Optional.", required=False),
            "responses": {
                "202": _ok("Queued.", _ref("ResyncQueued")),
                "400": _error("The body is not a JSON object, or `force` is not a boolean "
                              "(only a real `true` forces: it may create a second invoice); "
                              "or " + _BAD_ORDER_ID, "bad_request"),
                "401": _UNAUTHORIZED,
                "404": _error("`unknown_shop`: no such shop is configured; `not_found`: no "
                              "sync row for this order.", "unknown_shop", "not_found"),
                "409": _error("Refused; see the description. Nothing changed.",
                              "sending", "already_invoiced", "deleted_in_shop",
                              "status_not_invoiced", "no_snapshot"),
                "422": _error("`invalid_order`: the snapshot cannot be mapped with today's "
                              "configuration; `error.fields` names each field. Fix the "
                              "configuration (or the order) and resync again.",
                              "invalid_order"),
            },
        }},
        "/orders/{shop}/{order_id}/skip": {"post": {
            "operationId": "skipOrder", "tags": ["orders"],
            "summary": "Do not invoice this order",
            "description": (
                "For test orders, duplicates in the shop and the like: the row moves to "
                "`skipped` and `last_error` records the reason and the caller. Refused while "
                "`sending`, and whenever the upstream already accepted an invoice for it "
                "(`synced`, or `review` after a change: `synced_hash` set) -- cancel the "
                "invoice in the upstream instead. A newer snapshot with an invoiceable status "
                "queues it again."),
            "parameters": _ORDER_PATH,
            "requestBody": _body("SkipRequest", "The reason is required.", required=True),
            "responses": {
                "200": _ok("The skipped row.", _ref("OrderResult")),
                "400": _error("No JSON object body, or `reason` missing or blank; or "
                              + _BAD_ORDER_ID, "bad_request"),
                "401": _UNAUTHORIZED,
                "404": _error(_NO_ROW, "not_found"),
                "409": _error("`sending`: a worker is sending it right now; "
                              "`already_invoiced`: the row is synced.",
                              "sending", "already_invoiced"),
            },
        }},
        "/orders/{shop}/{order_id}/acknowledge": {"post": {
            "operationId": "acknowledgeOrder", "tags": ["orders"],
            "summary": "Settle a review row as invoiced",
            "description": (
                "You checked the upstream and the invoice is there (and, after a change, is "
                "fine as it is): the row becomes `synced`, and its current content counts as "
                "invoiced, so a later resync needs `force`. Only rows in `review`."),
            "parameters": _ORDER_PATH,
            "requestBody": _body("AcknowledgeRequest", "Optional.", required=False),
            "responses": {
                "200": _ok("The settled row.", _ref("OrderResult")),
                "400": _error("`invoice_id` or `note` is not a non-empty string; or "
                              + _BAD_ORDER_ID, "bad_request"),
                "401": _UNAUTHORIZED,
                "404": _error(_NO_ROW, "not_found"),
                "409": _error("`not_in_review`: the row is not in review.", "not_in_review"),
            },
        }},
        "/resync": {"post": {
            "operationId": "resyncOrders", "tags": ["orders"],
            "summary": "Resync many orders of a shop",
            "description": (
                "Resyncs the listed `order_ids`, or every order of the shop now in `state`. "
                "Each order is resynced in its own transaction by the rules of the "
                "single-order resync, so one refusal does not undo the others: refusals are "
                "listed in `refused` with the same codes (plus `not_found` for unknown ids), "
                "not answered as errors. Idempotent: queueing a queued order again sends "
                "nothing twice. Runs within the request. " + _RESYNC_RULES),
            "requestBody": _body("BulkResyncRequest", "Which orders.", required=True),
            "responses": {
                "202": _ok("What was queued and what was refused.", _ref("BulkResyncResult")),
                "400": _error("`bad_request`: a field is missing or of the wrong type (the "
                              "message names it); `bad_state`: `state` is unknown or "
                              "`sending`.", "bad_request", "bad_state"),
                "401": _UNAUTHORIZED,
                "404": _error("`unknown_shop`: no such shop is configured.", "unknown_shop"),
            },
        }},
        "/deliveries": {"get": {
            "operationId": "listDeliveries", "tags": ["deliveries"],
            "summary": "List stored deliveries",
            "description": (
                "Deliveries as stored, newest first, with what processing made of them. "
                "`status=quarantined` lists the deliveries whose processing failed 5 times "
                "(a statement the database refused, an error of ours) and were set aside so "
                "the ones behind them go on; `reason` says why. Fix the cause, then retry "
                "them. Database outages never count as failures."),
            "parameters": [_param(name) for name in (
                "DeliveryStatusFilter", "DeliveryShopFilter", "Limit", "Cursor")],
            "responses": {
                "200": _ok("A page of deliveries.", _ref("DeliveryList")),
                "400": _error("`status`, `limit` or `cursor` is malformed; the message names "
                              "it.", "bad_request"),
                "401": _UNAUTHORIZED,
            },
        }},
        "/deliveries/{delivery_id}/retry": {"post": {
            "operationId": "retryDelivery", "tags": ["deliveries"],
            "summary": "Process a quarantined delivery again",
            "description": (
                "Puts a quarantined delivery back to `received` with its tries counted afresh; "
                "a worker processes it on its next turn (202: queued, not processed). The "
                "previous reason is kept in `reason`."),
            "parameters": [_param("DeliveryId")],
            "responses": {
                "202": _ok("Queued.", _ref("DeliveryResult")),
                "401": _UNAUTHORIZED,
                "404": _error("`not_found`: no such delivery.", "not_found"),
                "409": _error("`not_quarantined`: the delivery is not quarantined.",
                              "not_quarantined"),
            },
        }},
        "/shops": {"get": {
            "operationId": "listShops", "tags": ["shops"],
            "summary": "Configured shops",
            "description": "Every configured shop: paused or not (and why), and its rows "
                           "counted by state.",
            "responses": {
                "200": _ok("The shops.", _ref("ShopList")),
                "401": _UNAUTHORIZED,
            },
        }},
        "/shops/{shop}/pause": {"post": {
            "operationId": "pauseShop", "tags": ["shops"],
            "summary": "Pause a shop's dispatch",
            "description": (
                "Deliveries are still received and processed while paused; only sending "
                "upstream waits. The bridge pauses a shop itself when the upstream refuses "
                "its account or endpoint (401/403/404). Pausing again with the same reason "
                "changes nothing."),
            "parameters": [_param("Shop")],
            "requestBody": _body("PauseRequest", "Optional.", required=False),
            "responses": {
                "200": _ok("The shop (without `rows_by_state`).", _ref("Shop")),
                "400": _error("The body is not a JSON object, or `reason` is not a non-empty "
                              "string.", "bad_request"),
                "401": _UNAUTHORIZED,
                "404": _error("`unknown_shop`: no such shop is configured.", "unknown_shop"),
            },
        }},
        "/shops/{shop}/resume": {"post": {
            "operationId": "resumeShop", "tags": ["shops"],
            "summary": "Resume a shop's dispatch",
            "description": "Rows that waited while paused become due at once.",
            "parameters": [_param("Shop")],
            "responses": {
                "200": _ok("The shop (without `rows_by_state`).", _ref("Shop")),
                "401": _UNAUTHORIZED,
                "404": _error("`unknown_shop`: no such shop is configured.", "unknown_shop"),
            },
        }},
    }


def openapi_document(server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document; ``server_url`` is where ``/admin/api`` is reachable
    (default: that path on the same host as the document)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "invoice-bridge admin API",
            "version": "1",
            "description": (
                "See and repair the sync rows that turn WooCommerce orders into invoices. "
                "Every operation but this document needs `Authorization: Bearer <token>`. "
                "Errors are always `{\"error\": {\"code\", \"message\", ...}}`. Request bodies "
                "are JSON (`Content-Type: application/json`). States: docs/states.md."),
        },
        "servers": [{"url": server_url or API_PREFIX}],
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": "orders", "description": "Sync rows and what an operator can do to them."},
            {"name": "shops", "description": "Per-shop dispatch switches."},
            {"name": "deliveries", "description": "What WooCommerce delivered, and the "
                                                  "quarantine."},
            {"name": "meta", "description": "This description."},
        ],
        "paths": _paths(),
        "components": _components(),
    }
