"""Sending one claimed row upstream, on a dispatch thread. It talks to the upstream only --
the loop records every answer (``recording.py``) -- and it decides three things first:

- the rate limit of the shop's upstream account (``ratelimit.py``) may hold it back;
- a row whose lease could not outlast the longest request is not started at all (it would
  be reaped mid-flight and need a person), nor is one queued when the worker stops;
- a row sent before (``Claim.sent_before``: an earlier answer was lost, an error, a 429 or
  401 page that proves nothing, a killed worker) goes to an upstream that can look invoices
  up (``find_invoice``) as a lookup first, and is created only if the invoice is not there:
  such a service never gets a second invoice from us, and an unknown outcome settles itself
  (a lookup that finds nothing settles the earlier ones too: ``unknowns_settled``);
- a row whose order was withdrawn in the shop (deleted, or its status left
  ``invoice_statuses``) before it was claimed is only looked up, never created: it waits
  for a retry only when its invoice may exist and the upstream can be asked (``lookup_only``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from datetime import timedelta

from bridge.clock import Clock
from bridge.config.model import Settings
from bridge.dispatch.claims import Claim
from bridge.dispatch.outcomes import AttemptResult, withdrawn_at_claim
from bridge.dispatch.ratelimit import RateLimiter
from bridge.errors import UpstreamBadResponse, UpstreamError, UpstreamRateLimited
from bridge.logs import log_context
from bridge.upstreams.port import InvoiceRef, InvoiceUpstream, invoice_finder
from bridge.upstreams.registry import UpstreamRegistry

log = logging.getLogger(__name__)


class Sender:
    def __init__(self, settings: Settings, upstreams: UpstreamRegistry, limiter: RateLimiter,
                 clock: Clock, stopping: threading.Event) -> None:
        self.settings = settings
        self.upstreams = upstreams
        self.limiter = limiter
        self.clock = clock
        self.stopping = stopping

    def send(self, claim: Claim) -> AttemptResult:
        with log_context(order=f"{claim.shop}/{claim.order_id}", shop=claim.shop):
            settings = self.settings.shops[claim.shop].upstream
            upstream = self.upstreams.for_shop(claim.shop)
            account = settings.account_key
            self.limiter.acquire(account, settings.rate_limit, settings.rate_burst,
                                 stop=self.stopping)
            started = self.clock.now()
            # Queued, or held by the rate limit: a request that might outlive its lease
            # would be reaped mid-flight and need review; better not to start it at all.
            if self.stopping.is_set():
                return AttemptResult(started, 0.0, unsent="the worker stopped")
            if started + timedelta(seconds=sum(settings.timeouts)) > claim.lease_until:
                return AttemptResult(started, 0.0, unsent=(
                    "its lease would run out before the longest possible request"))
            withdrawn = withdrawn_at_claim(claim, self.settings.shops[claim.shop])
            if withdrawn and not (claim.sent_before and invoice_finder(upstream)):
                # nothing to ask: the recorder skips it, or stops it for a person
                return AttemptResult(started, 0.0, unsent="the order was withdrawn in the shop")
            t0 = time.perf_counter()
            ref, error, settled = None, None, False
            try:
                ref = self._look_up(upstream, claim)
                if ref is None and withdrawn:
                    settled = True  # nothing found, and nothing is created
                elif ref is None:
                    # a lookup that found nothing settles every earlier unknown outcome
                    settled = claim.sent_before and invoice_finder(upstream) is not None
                    ref = upstream.create_invoice(claim.payload)
            except UpstreamError as exc:
                error = exc
            except Exception as exc:  # our own bug; it may have happened after sending
                log.exception("adapter failed")
                error = UpstreamBadResponse(f"internal error: {type(exc).__name__}: {exc}",
                                            ambiguous=not withdrawn)  # a lookup creates nothing
            duration_ms = (time.perf_counter() - t0) * 1000
            if isinstance(error, UpstreamRateLimited):
                self.limiter.block(account, error.retry_after or 1.0)
            return AttemptResult(started, duration_ms, ref, error, unknowns_settled=settled,
                                 lookup_only=withdrawn)

    @staticmethod
    def _look_up(upstream: InvoiceUpstream, claim: Claim) -> InvoiceRef | None:
        """The invoice of a row sent before, if the upstream can be asked and has it."""
        finder = invoice_finder(upstream)
        if finder is not None and claim.sent_before:
            try:
                found = finder.find_invoice(claim.payload)
            except UpstreamError as exc:
                # A lookup creates nothing, whatever became of the request: the row's
                # outcome is no more unknown than it was.
                exc.ambiguous = False
                raise
            if found is not None:
                return replace(found, existed=True, looked_up=True)
        return None
