"""The states of a sync row (one row per shop order) and why each exists.

::

        new snapshot, invoiceable                      operator resync, newer snapshot
    (none) ───────────────────────────► pending ◄──────────────────────────┐
      │ status not invoiceable/deleted     │ claimed (lease)               │
      ├───────────────────► skipped        ▼                               │
      │ content cannot be mapped        sending ── lease expired ──────────┤ (if the
      └───────────────────► invalid        │                               │  upstream
                                           ├─ created / exists ─► synced   │  dedupes)
                                           ├─ transient ────────► retrying ┘
                                           ├─ ambiguous ────────► review
                                           └─ rejected/gave up ─► failed
    synced ── order changed after invoicing (on_change = review) ──► review

The full table of transitions is in docs/states.md.
"""

from __future__ import annotations

from enum import StrEnum


class SyncState(StrEnum):
    PENDING = "pending"      # waiting to be sent (first time or after an operator resync)
    SENDING = "sending"      # claimed by a worker holding a lease
    RETRYING = "retrying"    # a transient failure; next_attempt_at says when
    SYNCED = "synced"        # the upstream has the invoice (invoice_id, if it told us)
    REVIEW = "review"        # needs a person: outcome unknown, or order changed after invoicing
    FAILED = "failed"        # the upstream refused it, or we gave up; last_error says why
    INVALID = "invalid"      # the order cannot be mapped; last_error names the fields
    SKIPPED = "skipped"      # not to be invoiced (status, deleted, operator); reason recorded


#: States the dispatcher picks up when due.
DUE_STATES = (SyncState.PENDING, SyncState.RETRYING)


class AttemptOutcome(StrEnum):
    """What one dispatch attempt came to (``dispatch_attempts.outcome``; docs/states.md)."""

    CREATED = "created"                    # the upstream created the invoice
    EXISTS = "exists"                      # it already had one for this order (a repeat)
    FOUND = "found"                        # a lookup before sending again found it
    REJECTED = "rejected"                  # refused for good (validation, other 4xx)
    RETRY = "retry"                        # transient; tried again later
    RETRY_UNKNOWN = "retry_unknown"        # transient, and the invoice may exist
    THROTTLED = "throttled"                # 429; not counted
    THROTTLE_UNKNOWN = "throttle_unknown"  # 429 that proves nothing
    PAUSED = "paused"                      # the shop's account was refused; shop paused
    PAUSED_UNKNOWN = "paused_unknown"      # the same, from an answer that proves nothing
    AMBIGUOUS = "ambiguous"                # the invoice may exist: stopped in review
    GAVE_UP = "gave_up"                    # retries ran out
    WITHDRAWN = "withdrawn"                # the order left the shop's invoiced states
    INTERRUPTED = "interrupted"            # no answer: the worker died or had to stop
    REVIEW = "review"                      # a reaped or released row stopped for a person
    UNSENT = "unsent"                      # claimed but never sent; due again
    LATE = "late"                          # answered after the lease was lost; ignored
    LATE_CREATED = "late_created"          # ... but it confirmed the invoice
    VANISHED = "vanished"                  # the row was gone when the answer came


#: attempt outcomes after which the invoice may exist upstream
UNKNOWN_OUTCOMES = (AttemptOutcome.RETRY_UNKNOWN, AttemptOutcome.INTERRUPTED,
                    AttemptOutcome.AMBIGUOUS, AttemptOutcome.PAUSED_UNKNOWN,
                    AttemptOutcome.THROTTLE_UNKNOWN)


class DeliveryStatus(StrEnum):
    """Where a stored delivery is (``deliveries.status``)."""

    RECEIVED = "received"        # stored, not processed yet
    PROCESSED = "processed"      # the worker applied it; ``outcome`` says how
    QUARANTINED = "quarantined"  # processing failed MAX_TRIES times; ``reason`` says why


class DeliveryOutcome(StrEnum):
    """What processing made of a delivery (``deliveries.outcome``)."""

    APPLIED = "applied"              # the order's row took it
    UNCHANGED = "unchanged"          # nothing the invoice shows changed
    STALE = "stale"                  # older than the snapshot already applied
    ECHO = "echo"                    # the shop echoing our own write-back; nothing changed
    IGNORED = "ignored"              # not about an invoiceable order (topic, draft, ...)
    INVALID = "invalid"              # the content cannot be used; reason names the fields
    ERROR_PAYLOAD = "error_payload"  # WooCommerce sent an error instead of the order
    RETRY = "retry"                  # processing failed; tried again later
    QUARANTINED = "quarantined"      # ... MAX_TRIES times: set aside with the reason


class TaskKind(StrEnum):
    """What a follow-up task does once an order's invoice exists (``order_tasks.kind``)."""

    PAYMENT = "payment"          # record that the order was paid
    CANCEL = "cancel"            # cancel the invoice: the order was cancelled
    CORRECTION = "correction"    # a correction document for a refund


class TaskState(StrEnum):
    """Where a follow-up task is (``order_tasks.state``; docs/states.md)."""

    PENDING = "pending"    # due (once the order's invoice exists)
    SENDING = "sending"    # claimed by a worker holding a lease
    RETRYING = "retrying"  # a transient failure; next_attempt_at says when
    DONE = "done"          # the upstream has it (reference, if it said)
    FAILED = "failed"      # refused for good, or retries ran out; last_error says why
    REVIEW = "review"      # a person decides (the shop's policy, or an unknown outcome)
    SKIPPED = "skipped"    # not to be done (an operator, or the order moved on)


#: task states the dispatcher picks up when due
DUE_TASK_STATES = (TaskState.PENDING, TaskState.RETRYING)


class WriteBackState(StrEnum):
    """Where an order's write-back to the shop is (``order_writebacks.state``;
    docs/states.md "Write-back to the shop")."""

    PENDING = "pending"    # due: ``target`` differs from what the shop shows
    SENDING = "sending"    # claimed by a worker holding a lease
    RETRYING = "retrying"  # a transient failure, or the shop's key was refused (paused)
    DONE = "done"          # the shop shows ``target`` (note and meta)
    FAILED = "failed"      # the shop refused it for good, or retries ran out


#: write-back states the dispatcher picks up when due
DUE_WRITEBACK_STATES = (WriteBackState.PENDING, WriteBackState.RETRYING)
#: sync states an order stops in, which the shop is told about
WRITTEN_BACK_STATES = (SyncState.SYNCED, SyncState.FAILED, SyncState.REVIEW, SyncState.INVALID,
                       SyncState.SKIPPED)
