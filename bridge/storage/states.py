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
