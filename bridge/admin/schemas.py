"""The admin API's bodies and parameters as marshmallow schemas: the server loads requests
and dumps responses with them, and ``bridge.admin.openapi`` generates the OpenAPI document
from them -- one definition, so the document cannot drift from what the server does.

Request schemas ignore unknown fields (``EXCLUDE``: the document leaves them open); response
schemas name every field they may hold (``RAISE``: the document closes them, so a field
added here but not meant for clients shows in review). ``required=True`` on a response field
means "always present" in the document.
"""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from bridge.admin.fields import (
    DateTimeParameter,
    Limit,
    Masked,
    Matches,
    OrderId,
    StrictBoolean,
    Text,
)
from bridge.config.sections import SHOP_ID
from bridge.intake import backlog
from bridge.storage.states import SyncState

MAX_LIMIT = 500
MAX_BULK_ORDER_IDS = 10_000
#: what an operator types: a reason, a note
MAX_REASON_CHARS = 500
#: an invoice's id in the upstream
MAX_INVOICE_ID_CHARS = 200
#: a search: as long as a request line can carry under ``invoice-bridge run`` (16 KB of
#: headers, bridge/embedded.py); a longer one never reaches the app
MAX_SEARCH_CHARS = 16 * 1024
#: a cursor this API returns is about 60 characters
MAX_CURSOR_CHARS = 200

STATES = [state.value for state in SyncState]
RESYNCABLE_STATES = [state for state in STATES if state != SyncState.SENDING]
#: a shop id (the configuration's rule, matched whole)
SHOP_PATTERN = SHOP_ID.pattern
SHOP_RULE = ("a configured shop id: 1-64 characters of a-z, 0-9, '_' or '-', starting with a "
             "letter or digit")
_STATE_LIST = f"({'|'.join(STATES)})(,({'|'.join(STATES)}))*"
#: the (OpenAPI) format of the orders' opaque cursor: only ``next_cursor`` values are cursors
CURSOR_FORMAT = "invoice-bridge-cursor"
#: a content fingerprint: "2:" and 62 hex digits, or 64 hex digits for rows written before
#: version 2 (bridge/mapping/fingerprint.py)
_FINGERPRINT = {"pattern": "^([0-9a-f]{64}|2:[0-9a-f]{62})$"}


def _doc(description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, **extra}


def _state_ref(description: str | None = None) -> dict[str, Any]:
    """Document the field as the ``SyncState`` component (``bridge.admin.openapi``)."""
    return {"component": "SyncState", **({"description": description} if description else {})}


# --- requests --------------------------------------------------------------------------------


class RequestSchema(Schema):
    """A request body or the query: unknown fields are ignored. ``error_codes`` gives a field
    an error code of its own (else ``bad_request``)."""

    error_codes: ClassVar[dict[str, str]] = {}

    class Meta:
        unknown = EXCLUDE


class ResyncOptions(RequestSchema):
    force = StrictBoolean(metadata=_doc(
        "Send even though an invoice may already exist upstream, the order was deleted in "
        "the shop, or its status does not invoice. Only a JSON `true` forces.", default=False))


class SkipRequest(RequestSchema):
    reason = Text(required=True, max_length=MAX_REASON_CHARS,
                  metadata=_doc("Why it is not to be invoiced; kept on the row."))


class AcknowledgeRequest(RequestSchema):
    invoice_id = Text(max_length=MAX_INVOICE_ID_CHARS,
                      metadata=_doc("The invoice's id in the upstream, if you have it."))
    note = Text(max_length=MAX_REASON_CHARS, metadata=_doc("Recorded in the row's events."))


class PauseRequest(RequestSchema):
    reason = Text(max_length=MAX_REASON_CHARS, metadata=_doc(
        "Shown in `paused_reason`; defaults to \"paused by <caller>\"."))


class BulkResyncRequest(RequestSchema):
    """Either ``order_ids`` or ``state``; ``order_ids`` wins if both are given."""

    error_codes: ClassVar[dict[str, str]] = {"state": "bad_state"}
    schema_extra: ClassVar[dict[str, Any]] = {
        "anyOf": [{"required": ["order_ids"]}, {"required": ["state"]}]}

    # an unknown shop (however spelled) is a 404, as on every other operation
    shop = Text(required=True, max_length=64, metadata=_doc(
        "The shop's id from the configuration; an unknown one is a 404 (`unknown_shop`).",
        pattern=f"^{SHOP_PATTERN}$"))
    order_ids = fields.List(
        OrderId(), validate=validate.Length(
            min=1, max=MAX_BULK_ORDER_IDS,
            error=f"must be a non-empty list of at most {MAX_BULK_ORDER_IDS} order ids"),
        error_messages={"invalid": "must be a non-empty list of order ids",
                        "null": "must be a non-empty list of order ids"},
        metadata=_doc("The orders to resync."))
    state = fields.String(
        validate=validate.OneOf(RESYNCABLE_STATES, error="cannot resync {input!r} rows"),
        error_messages={"invalid": "must be a state", "null": "must be a state"},
        metadata=_doc("Every order of the shop in this state (any but `sending`); checked, "
                      "but not used, when `order_ids` is given."))
    force = StrictBoolean(metadata=_doc("As for the single-order resync.", default=False))

    @validates_schema
    def _orders_or_state(self, data: dict[str, Any], **_: Any) -> None:
        if "order_ids" not in data and "state" not in data:
            raise ValidationError("required (or order_ids)", field_name="state")


class StateList(fields.List):  # type: ignore[type-arg]  # marshmallow types List as List[Any | None]
    """``state=failed,review&state=invalid`` -> ``["failed", "review", "invalid"]``; an
    unknown state is named."""

    def _deserialize(  # type: ignore[override]
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> list[str]:
        if not isinstance(value, list):
            raise ValidationError("unknown state")
        parts = [part for text in value for part in str(text).split(",")]
        unknown = next((part for part in parts if part not in STATES), None)
        if unknown is not None:
            raise ValidationError(f"unknown state {unknown[:40]!r}")
        return parts


class OrderListQuery(RequestSchema):
    shop = fields.String(validate=Matches(f"({SHOP_PATTERN})?", f"must be {SHOP_RULE}"),
                         metadata=_doc("Only this shop's orders (empty: every shop)."))
    state = StateList(
        fields.String(validate=Matches(_STATE_LIST, "unknown state")),
        metadata=_doc("Only orders in these states: repeat the parameter or give a comma "
                      "list (`state=failed,review`). An unknown state is a 400."))
    created_after = DateTimeParameter(metadata=_doc("created_at >= this. ISO 8601 date-time "
                                                    "(without an offset: UTC; a date alone: "
                                                    "midnight UTC)."))
    created_before = DateTimeParameter(metadata=_doc("created_at < this; as created_after."))
    updated_after = DateTimeParameter(metadata=_doc("updated_at >= this; as created_after."))
    updated_before = DateTimeParameter(metadata=_doc("updated_at < this; as created_after."))
    q = fields.String(validate=[
        validate.Length(max=MAX_SEARCH_CHARS, error=f"at most {MAX_SEARCH_CHARS} characters"),
        Matches("[^\\u0000]*", "must not contain NUL")],
        metadata=_doc("The order number contains this, or (all digits) the order id is it."))
    limit = Limit(maximum=MAX_LIMIT, default=50, metadata=_doc("Page size."))
    cursor = fields.String(validate=validate.Length(
        max=MAX_CURSOR_CHARS,
        error=f"not a cursor this API returned (longer than {MAX_CURSOR_CHARS} characters)"),
        metadata=_doc("`next_cursor` from the previous page, as it was (empty: the first "
                      "page); any other text is a 400.", format=CURSOR_FORMAT))


class DeliveryListQuery(RequestSchema):
    status = fields.String(
        validate=validate.OneOf(backlog.STATUSES,
                                error=f"must be one of {', '.join(backlog.STATUSES)}"),
        metadata=_doc("Only deliveries in this status; `quarantined` lists the ones that "
                      "need a person."))
    shop = fields.String(validate=Matches(f"({SHOP_PATTERN})?", f"must be {SHOP_RULE}"),
                         metadata=_doc("Only this shop's deliveries (empty: every shop)."))
    limit = Limit(maximum=MAX_LIMIT, default=50, metadata=_doc("Page size."))
    cursor = fields.String(validate=Matches("[0-9]{0,18}", "not a cursor this API returned"),
                           metadata=_doc("`next_cursor` from the previous page (empty: the "
                                         "first page)."))


# --- responses -------------------------------------------------------------------------------


class ResponseSchema(Schema):
    """A response body: the document lists every field it may hold, and no other."""


class SyncRow(ResponseSchema):
    class Meta:
        description = "One order's sync row: one per (shop, order id)."

    id = fields.Integer(required=True, metadata=_doc("The sync row's own id."))
    shop = fields.String(required=True, metadata=_doc("Shop id from the configuration."))
    order_id = fields.Integer(required=True, metadata=_doc("The WooCommerce order id.",
                                                           minimum=0))
    order_number = fields.String(required=True, allow_none=True, metadata=_doc(
        "The order number the shop shows (may differ from the id)."))
    order_status = fields.String(required=True, allow_none=True, metadata=_doc(
        "WooCommerce status of the latest snapshot (processing, completed, on-hold, ...)."))
    state = fields.String(required=True, metadata=_state_ref())
    upstream = fields.String(required=True, metadata=_doc(
        "Invoicing service kind, e.g. econt."))
    invoice_id = fields.String(required=True, allow_none=True, metadata=_doc(
        "The upstream's invoice id, once known (or as recorded by an acknowledge)."))
    invoice_number = fields.String(required=True, allow_none=True)
    attempts = fields.Integer(required=True, metadata=_doc(
        "Attempts that count towards max_attempts; reset by a resync.", minimum=0))
    next_attempt_at = fields.DateTime(required=True, allow_none=True, metadata=_doc(
        "When a pending/retrying row is due."))
    first_attempt_at = fields.DateTime(required=True, allow_none=True, metadata=_doc(
        "First attempt since the row was last queued (max_age counts from here)."))
    last_error = Masked(required=True, allow_none=True, metadata=_doc(
        "Why the row is where it is."))
    last_http_status = fields.Integer(required=True, allow_none=True, metadata=_doc(
        "HTTP status of the latest upstream answer."))
    content_hash = fields.String(required=True, allow_none=True, metadata=_doc(
        "Fingerprint of the invoice the latest snapshot maps to.", **_FINGERPRINT))
    synced_hash = fields.String(required=True, allow_none=True, metadata=_doc(
        "Fingerprint of what the upstream accepted; set means an invoice exists, so resync "
        "needs force.", **_FINGERPRINT))
    snapshot_modified_at = fields.DateTime(required=True, allow_none=True, metadata=_doc(
        "date_modified_gmt of the latest applied snapshot; older ones never overwrite it."))
    deleted_in_shop = fields.Boolean(required=True)
    lease_owner = fields.String(required=True, allow_none=True, metadata=_doc(
        "The worker sending it right now."))
    lease_until = fields.DateTime(required=True, allow_none=True, metadata=_doc(
        "When that worker's lease runs out."))
    synced_at = fields.DateTime(required=True, allow_none=True, metadata=_doc(
        "When the upstream accepted the invoice."))
    created_at = fields.DateTime(required=True, metadata=_doc(
        "When the bridge first heard of the order."))
    updated_at = fields.DateTime(required=True, metadata=_doc("Last change; lists sort on it."))
    payload = fields.Dict(allow_none=True, metadata=_doc(
        "The rendered upstream request body (no credentials) for the latest snapshot. Only "
        "in `GET /orders/{shop}/{order_id}`."))


class SyncRowSummary(SyncRow):
    class Meta:
        description = ("A sync row without its payload: in lists and in the answers of "
                       "operations.")
        exclude = ("payload",)


class Attempt(ResponseSchema):
    class Meta:
        description = "One call made to the upstream for a row."

    id = fields.Integer(required=True)
    started_at = fields.DateTime(required=True, metadata=_doc("When the call started."))
    duration_ms = fields.Float(required=True, allow_none=True, metadata={"minimum": 0})
    worker = fields.String(required=True, allow_none=True, metadata=_doc(
        "Worker id (host:pid:random)."))
    outcome = fields.String(required=True, metadata=_doc(
        "created | exists (the upstream already had it) | retry | retry_unknown (retrying, "
        "but the first try may have created the invoice) | throttled (429) | paused "
        "(401/403/404: the shop was paused) | ambiguous (outcome unknown, row in review) | "
        "rejected | gave_up | interrupted (worker stopped mid-send) | late_created | late (an "
        "answer after the lease was lost) | throttle_unknown, paused_unknown (throttled, "
        "paused, from an answer that was not the upstream's own: the invoice may exist) | "
        "withdrawn (failed while the order was deleted or left invoice_statuses: row "
        "skipped, or in review)"))
    http_status = fields.Integer(required=True, allow_none=True)
    error = Masked(required=True, allow_none=True)
    invoice_id = fields.String(required=True, allow_none=True)


class Delivery(ResponseSchema):
    class Meta:
        description = ("A webhook (or backfill) delivery, as received, and what processing "
                       "made of it.")

    id = fields.Integer(required=True)
    shop = fields.String(required=True)
    order_id = fields.Integer(required=True, allow_none=True, metadata=_doc(
        "The order it was about, once processing could read it."))
    source = fields.String(required=True, metadata=_doc(
        "webhook | backfill | spool (imported after a database outage)"))
    received_at = fields.DateTime(required=True, metadata=_doc("When the bridge received it."))
    topic = fields.String(required=True, allow_none=True, metadata=_doc("e.g. order.created"))
    wc_delivery_id = fields.String(required=True, allow_none=True, attribute="delivery_id",
                                   metadata=_doc("X-WC-Webhook-Delivery-ID (for support; "
                                                 "WooCommerce repeats them)."))
    status = fields.String(required=True, validate=validate.OneOf(backlog.STATUSES),
                           metadata=_doc("received (waiting to be processed) | processed | "
                                         "quarantined (processing failed too often; `reason` "
                                         "says why)"))
    outcome = fields.String(required=True, allow_none=True, metadata=_doc(
        "What processing made of it: applied | unchanged | stale | ignored | invalid | "
        "error_payload (error: an exception recorded by older versions)"))
    reason = Masked(required=True, allow_none=True, metadata=_doc(
        "Why (bounded to a few KB)."))
    tries = fields.Function(lambda delivery: delivery.tries or 0, required=True, metadata=_doc(
        "Processing tries that failed (not counting database outages); at 5 the delivery is "
        "quarantined.", type="integer", minimum=0))
    body_bytes = fields.Function(lambda delivery: len(delivery.body), required=True,
                                 metadata={"type": "integer", "minimum": 0})


class Event(ResponseSchema):
    class Meta:
        description = ("Something that happened to a row besides attempts (snapshots, state "
                       "changes, operator actions with the caller).")

    at = fields.DateTime(required=True, metadata=_doc("When it happened."))
    kind = fields.String(required=True, metadata=_doc("snapshot | state | operator | reaper"))
    detail = Masked(required=True)


class Shop(ResponseSchema):
    class Meta:
        description = "A configured shop and whether its dispatch is paused."

    shop = fields.String(required=True)
    paused = fields.Boolean(required=True)
    paused_reason = fields.String(required=True, allow_none=True)
    paused_at = fields.DateTime(required=True, allow_none=True, metadata=_doc(
        "When dispatch was paused."))
    writeback_paused = fields.Boolean(required=True, metadata=_doc(
        "Write-back to the shop is paused (its REST key was refused); invoicing goes on. "
        "Resuming the shop resumes it."))
    writeback_paused_reason = fields.String(required=True, allow_none=True)
    writebacks_by_state = fields.Dict(
        keys=fields.String(), values=fields.Integer(metadata={"minimum": 1}),
        metadata=_doc("Write-backs to the shop (notes and meta on its orders) counted by "
                      "state (pending, sending, retrying, done, failed); states without any "
                      "are absent. Only in `GET /shops`."))
    rows_by_state = fields.Dict(
        keys=fields.String(), values=fields.Integer(metadata={"minimum": 1}),
        metadata=_doc("Rows counted by state; states without rows are absent. Only in "
                      "`GET /shops`.", schema_extra={
                          "propertyNames": {"$ref": "#/components/schemas/SyncState"}}))


class ErrorDetail(Schema):
    class Meta:
        unknown = EXCLUDE  # open: a refusal may carry further details

    code = fields.String(required=True, metadata=_doc("Stable, machine-readable."))
    message = fields.String(required=True, metadata=_doc(
        "For people; names the field for input errors."))
    fields_ = fields.Dict(
        data_key="fields", keys=fields.String(), values=fields.List(fields.String()),
        metadata=_doc("invalid_order only: each unmappable field of the order and why."))


class Error(ResponseSchema):
    class Meta:
        description = "Every error, on every endpoint."

    error = fields.Nested(ErrorDetail, required=True)


class RefusedOrder(ResponseSchema):
    class Meta:
        description = ("An order a bulk resync did not queue, and why (the codes of the "
                       "single-order resync).")

    order_id = fields.Integer(required=True)
    code = fields.String(required=True, validate=validate.OneOf([
        "not_found", "sending", "already_invoiced", "deleted_in_shop", "status_not_invoiced",
        "no_snapshot", "invalid_order"]))
    message = fields.String(required=True)
    fields_ = fields.Dict(
        data_key="fields", attribute="fields", keys=fields.String(),
        values=fields.List(fields.String()),
        metadata=_doc("invalid_order only: each unmappable field and why."))


class OrderList(ResponseSchema):
    orders = fields.List(fields.Nested(SyncRowSummary), required=True)
    next_cursor = fields.String(required=True, allow_none=True, metadata=_doc(
        "Pass as `cursor` (with the same filters) for the next page; null on the last page."))


class OrderDetail(ResponseSchema):
    order = fields.Nested(SyncRow, required=True, metadata={"required": ["payload"]})
    attempts = fields.List(fields.Nested(Attempt), required=True, metadata=_doc(
        "Newest first, at most 100."))
    deliveries = fields.List(fields.Nested(Delivery), required=True, metadata=_doc(
        "Newest first, at most 100."))
    events = fields.List(fields.Nested(Event), required=True, metadata=_doc(
        "Newest first, at most 100."))


class OrderResult(ResponseSchema):
    order = fields.Nested(SyncRowSummary, required=True)


class DeliveryList(ResponseSchema):
    deliveries = fields.List(fields.Nested(Delivery), required=True)
    next_cursor = fields.String(required=True, allow_none=True, metadata=_doc(
        "Pass as `cursor` for the next page; null on the last."))


class DeliveryResult(ResponseSchema):
    delivery = fields.Nested(Delivery, required=True)


class ResyncQueued(ResponseSchema):
    queued = fields.Integer(required=True, metadata={"enum": [1]})
    order = fields.Nested(SyncRowSummary, required=True)
    remapped = fields.Boolean(required=True, metadata=_doc(
        "True: re-mapped from the latest stored snapshot with today's configuration. False: "
        "no snapshot was found, the stored payload is sent as it is."))


class BulkResyncResult(ResponseSchema):
    queued = fields.Integer(required=True, metadata={"minimum": 0})
    order_ids = fields.List(fields.Integer(), required=True, metadata=_doc("The orders queued."))
    refused = fields.List(fields.Nested(RefusedOrder), required=True)


class ShopList(ResponseSchema):
    shops = fields.List(fields.Nested(Shop, metadata={"required": [
        "shop", "paused", "paused_reason", "paused_at", "writeback_paused",
        "writeback_paused_reason", "rows_by_state", "writebacks_by_state"]}), required=True,
        metadata=_doc("In configuration order."))
