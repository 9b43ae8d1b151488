"""Commands for the person on call: status, resync, skip, pause/resume, backfill,
check-config. They print for people by default and JSON with ``--json``."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from bridge.cli import (
    EXIT_FAILED,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    Context,
    cli,
    fail,
    fail_refused,
    pass_context,
)

ATTENTION = ("failed", "review", "invalid")


class OrderIdType(click.ParamType):  # type: ignore[type-arg]
    """An order id in ASCII digits, 1 to 2^63 - 1 (click's INT, like ``int()``, also takes
    ``١١٨٧`` as 1187, and any size)."""

    name = "order_id"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        from bridge.order_ids import is_order_id, parse_order_id

        if is_order_id(value):
            return int(value)
        try:
            return parse_order_id(str(value))
        except ValueError as exc:
            self.fail(f"{str(value)[:40]!r}: {exc}", param, ctx)


ORDER_ID = OrderIdType()


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--check", is_flag=True,
              help="Exit 1 if rows need attention (failed, review, invalid), a shop is "
                   "paused, or deliveries or spool files are quarantined.")
@pass_context
def status(ctx: Context, as_json: bool, check: bool) -> None:
    """Rows by state per shop, paused shops, workers, the oldest due item, and the intake."""
    from sqlalchemy import select
    from sqlalchemy.exc import DBAPIError

    from bridge.intake.backlog import intake_backlog
    from bridge.storage import queries
    from bridge.storage.models import ShopState

    runtime = ctx.runtime()
    settings, spool = runtime.settings, runtime.store.spool
    now = datetime.now(UTC)
    try:
        with runtime.db.read() as session:
            counts = queries.counts_by_state(session)
            shops = {s.shop: s for s in session.execute(select(ShopState)).scalars()}
            workers = queries.live_workers(session, now, stale_after=60)
            oldest = queries.oldest_due(session, now)
            intake = intake_backlog(session)
            tasks = queries.tasks_by_state(session)
    except DBAPIError as exc:
        fail(f"database unavailable: {str(exc).splitlines()[0]}", EXIT_UNAVAILABLE)
    finally:
        runtime.close()
    report: dict[str, Any] = {
        "shops": [{
            "shop": shop_id,
            "rows_by_state": counts.get(shop_id, {}),
            "paused": bool(shops.get(shop_id) and shops[shop_id].paused),
            "paused_reason": shops[shop_id].paused_reason if shop_id in shops else None,
            "writeback_paused": bool(shops.get(shop_id) and shops[shop_id].writeback_paused),
            "writeback_paused_reason": (shops[shop_id].writeback_paused_reason
                                        if shop_id in shops else None),
            "reconcile": shops[shop_id].reconcile_result if shop_id in shops else None,
            "quarantined_deliveries": intake.quarantined.get(shop_id, 0),
            "tasks_by_kind_and_state": tasks.get(shop_id, {}),
        } for shop_id in settings.shops],
        "workers": [{"worker": w.worker_id, "heartbeat_age_seconds":
                     round((now - w.heartbeat_at).total_seconds(), 1)} for w in workers],
        "oldest_due_seconds": round((now - oldest).total_seconds(), 1) if oldest else None,
        "spooled": spool.size(),
        "intake": {
            "unprocessed": intake.unprocessed,
            "oldest_unprocessed_seconds": round(intake.oldest_unprocessed_age(now), 1)
            if intake.unprocessed else None,
            "quarantined_deliveries": sum(intake.quarantined.values()),
            "quarantined_spool_files": spool.quarantined(),
        },
    }
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        _print_status(report)
    attention = any(s["paused"] or s["writeback_paused"]
                    or any(s["rows_by_state"].get(k) for k in ATTENTION)
                    or any(states.get(k) for states in s["tasks_by_kind_and_state"].values()
                           for k in ATTENTION)
                    for s in report["shops"]) or bool(
        report["intake"]["quarantined_deliveries"] or report["intake"]["quarantined_spool_files"])
    if check and attention:
        sys.exit(EXIT_FAILED)


def _print_status(report: dict[str, Any]) -> None:
    for shop in report["shops"]:
        rows = sorted(shop["rows_by_state"].items())
        states = ", ".join(f"{state} {count}" for state, count in rows) or "no rows"
        click.echo(f"{shop['shop']}: {states}")
        if shop["paused"]:
            click.secho(f"  PAUSED: {shop['paused_reason']}", fg="yellow")
        if shop["writeback_paused"]:
            click.secho(f"  WRITE-BACK PAUSED: {shop['writeback_paused_reason']}", fg="yellow")
        if shop["reconcile"]:
            click.echo(f"  last reconciliation: {shop['reconcile']}")
        if shop["quarantined_deliveries"]:
            click.secho(f"  QUARANTINED deliveries: {shop['quarantined_deliveries']} "
                        "(GET /admin/api/deliveries?status=quarantined)", fg="red")
        for kind, states in sorted(shop["tasks_by_kind_and_state"].items()):
            counts = ", ".join(f"{state} {count}" for state, count in sorted(states.items()))
            click.echo(f"  {kind} tasks: {counts}")
    workers = report["workers"]
    click.echo(f"workers alive: {len(workers)}"
               + (f" (newest heartbeat {workers[0]['heartbeat_age_seconds']}s ago)" if workers
                  else ""))
    if report["oldest_due_seconds"] is not None:
        click.echo(f"oldest due item waiting: {report['oldest_due_seconds']}s")
    if report["spooled"]:
        click.secho(f"spooled deliveries waiting for the database: {report['spooled']}",
                    fg="yellow")
    intake = report["intake"]
    if intake["unprocessed"]:
        click.echo(f"deliveries waiting to be processed: {intake['unprocessed']} (oldest "
                   f"{intake['oldest_unprocessed_seconds']}s)")
    if intake["quarantined_spool_files"]:
        click.secho(f"QUARANTINED spool files: {intake['quarantined_spool_files']} (in the "
                    "spool folder's quarantine/, each with a .reason file)", fg="red")


@cli.command()
@click.argument("shop")
@click.argument("order_ids", nargs=-1, type=ORDER_ID)
@click.option("--state", default=None, help="Resync every order of the shop in this state.")
@click.option("--force", is_flag=True,
              help="Send even if an invoice was already accepted (may create a second one).")
@pass_context
def resync(ctx: Context, shop: str, order_ids: tuple[int, ...], state: str | None,
           force: bool) -> None:
    """Re-map orders from their latest snapshot and send them again: the given ORDER_IDS, or
    every order in --state (e.g. failed)."""
    from bridge.errors import Refused
    from bridge.operations import check_resync_state, resync_many

    if bool(order_ids) == bool(state):
        fail("give either ORDER_IDS or --state", EXIT_USAGE)
    if state is not None:
        check_resync_state(state)
    runtime = ctx.runtime()
    try:
        ids = list(order_ids) or _ids_in_state(runtime.db, shop, state)
        with click.progressbar(length=len(ids), label="resync", file=sys.stderr) as bar:
            result = resync_many(runtime.db, runtime.settings, runtime.upstreams, shop,
                                 order_ids=ids, force=force, actor="cli",
                                 progress=bar.update)
    except Refused as refusal:
        fail_refused(refusal, shop)
    finally:
        runtime.close()
    click.echo(f"{shop}: {len(result.queued)} queued, {len(result.refused)} refused")
    for refused in result.refused:
        click.secho(f"  {shop}/{refused['order_id']}: refused ({refused['code']}): "
                    f"{refused['message']}", fg="yellow", err=True)
    if result.refused:
        sys.exit(EXIT_FAILED)


def _ids_in_state(db: Any, shop: str, state: str | None) -> list[int]:
    from sqlalchemy import select

    from bridge.storage.models import OrderSync

    with db.read() as session:
        return list(session.execute(select(OrderSync.order_id).where(
            OrderSync.shop == shop, OrderSync.state == state).order_by(OrderSync.order_id)
        ).scalars())


@cli.command()
@click.argument("shop")
@click.argument("order_id", type=ORDER_ID)
@click.option("--reason", required=True, help="Why it must not be invoiced.")
@pass_context
def skip(ctx: Context, shop: str, order_id: int, reason: str) -> None:
    """Do not invoice an order (a test order, a duplicate in the shop, ...)."""
    from bridge.errors import Refused
    from bridge.operations import skip as skip_order

    runtime = ctx.runtime()
    try:
        with runtime.db.transaction() as session:
            skip_order(session, shop, order_id, reason=reason, actor="cli")
    except Refused as refusal:
        fail_refused(refusal, f"{shop}/{order_id}")
    finally:
        runtime.close()
    click.echo(f"{shop}/{order_id}: skipped")


@cli.command()
@click.argument("shop")
@click.option("--reason", default=None, help="Why (shown to other operators).")
@pass_context
def pause(ctx: Context, shop: str, reason: str | None) -> None:
    """Pause a shop's dispatch (deliveries are still received and processed)."""
    _set_paused(ctx, shop, True, reason)


@cli.command()
@click.argument("shop")
@pass_context
def resume(ctx: Context, shop: str) -> None:
    """Resume a shop's dispatch, e.g. after fixing credentials the upstream refused."""
    _set_paused(ctx, shop, False, None)


def _set_paused(ctx: Context, shop: str, paused: bool, reason: str | None) -> None:
    from bridge.errors import Refused
    from bridge.operations import set_paused

    runtime = ctx.runtime()
    try:
        with runtime.db.transaction() as session:
            set_paused(session, runtime.settings, shop, paused, reason=reason, actor="cli")
    except Refused as refusal:
        fail_refused(refusal, shop)
    finally:
        runtime.close()
    click.echo(f"{shop}: {'paused' if paused else 'resumed'}")


def _when(value: str) -> datetime:
    """An ISO date/time (UTC unless it says otherwise) or a duration ago: 2h, 3d."""
    from bridge.config.fields import parse_duration

    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        return datetime.now(UTC) - timedelta(seconds=parse_duration(value))
    except ValueError:
        raise click.BadParameter("an ISO date-time (2026-11-01T00:00Z) or a duration ago "
                                 "(6h, 3d)") from None


@cli.command()
@click.option("--shop", required=True, help="Shop id.")
@click.option("--since", required=True, help="Orders modified since: ISO date-time, or 6h/3d.")
@click.option("--until", default=None, help="... and before this (default: now).")
@pass_context
def backfill(ctx: Context, shop: str, since: str, until: str | None) -> None:
    """Fetch orders from the shop's WooCommerce REST API and process the ones we missed."""
    from bridge.backfill import backfill as run_backfill
    from bridge.errors import Refused, WooRestError

    runtime = ctx.runtime()
    start, end = _when(since), (_when(until) if until else None)
    bar: Any = None

    def on_page(page: Any) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=page.total_pages, label="pages", file=sys.stderr)
            bar.__enter__()
        bar.length = max(bar.length or 0, page.total_pages)
        bar.update(1)

    try:
        report = run_backfill(runtime.db, runtime.settings, shop, start, end, on_page=on_page)
    except Refused as refusal:
        fail_refused(refusal)
    except WooRestError as exc:
        fail(f"{shop}: {exc}", EXIT_UNAVAILABLE)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
        runtime.close()
    click.echo(f"{shop}: {report.fetched} orders modified since {start:%Y-%m-%d %H:%M} UTC; "
               f"{report.stored} new or changed queued, {report.up_to_date} already up to date"
               + (f", {report.drafts} checkout drafts ignored" if report.drafts else ""))


def _missing_sqlite_file(database: Any) -> tuple[bool, str] | None:
    """(ok, what to do) when the SQLite file does not exist yet -- a freshly copied
    config.example.toml points into a ``var/`` that is not there -- instead of the driver's
    "unable to open database file". None when there is a file (or a server) to look at."""
    import os

    from bridge.storage.database import sqlite_file

    path = sqlite_file(database.url)
    if path is None or path.exists():
        return None
    existing = next(folder for folder in path.parents if folder.exists())
    if not existing.is_dir():
        return False, f"{path} cannot be created: {existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return False, (f"{path} does not exist, and it cannot be created: {existing} is not "
                       "writable by this user")
    if database.auto_migrate:
        return True, (f"{path} does not exist yet; `invoice-bridge run` creates it (and its "
                      "folder) at start, or create it now with `invoice-bridge migrate`")
    return False, f"{path} does not exist yet; create it with `invoice-bridge migrate`"


@cli.command("check-config")
@pass_context
def check_config(ctx: Context) -> None:
    """Validate the configuration, then check the database and, per shop, that the upstream
    answers and accepts the credentials (and the WooCommerce REST API, if configured)."""
    from bridge.errors import UpstreamAccountError, UpstreamError, WooRestAuthError, WooRestError
    from bridge.storage.migrate import current_revision, head_revision
    from bridge.wiring import Migrate
    from bridge.woocommerce.rest import WooRestClient

    runtime = ctx.runtime(Migrate.NO)  # the database is only looked at, never migrated here
    settings = runtime.settings
    click.echo(f"configuration: ok ({len(settings.shops)} shop(s), {settings.source})")
    problems: list[int] = []

    def report(name: str, ok: bool, detail: str, code: int = EXIT_FAILED) -> None:
        click.secho(f"{name}: {'ok' if ok else 'FAILED'} - {detail}",
                    fg=None if ok else "red")
        if not ok:
            problems.append(code)

    missing = _missing_sqlite_file(settings.database)
    if missing is not None:
        report("database", *missing)
    else:
        try:
            current, head = current_revision(runtime.db), head_revision()
            report("database", current == head, f"schema {current or 'empty'}, newest {head}"
                   + ("" if current == head else "; run `invoice-bridge migrate`"))
        except Exception as exc:
            report("database", False, str(exc).splitlines()[0], EXIT_UNAVAILABLE)

    upstreams = runtime.upstreams
    for shop in settings.shops.values():
        try:
            report(f"{shop.id} upstream", True, upstreams.for_shop(shop.id).check_credentials())
        except UpstreamAccountError as exc:
            report(f"{shop.id} upstream", False, str(exc))
        except UpstreamError as exc:
            report(f"{shop.id} upstream", False, f"unreachable: {exc}", EXIT_UNAVAILABLE)
        if shop.woocommerce is not None:
            try:
                client = WooRestClient(shop.woocommerce, retries=0)
                next(iter(client.iter_orders(datetime.now(UTC) - timedelta(days=1),
                                             per_page=1)), None)
                report(f"{shop.id} woocommerce", True,
                       f"REST API answers at {shop.woocommerce.url}")
                if shop.woocommerce.write_back:  # asked without changing any order
                    writes = client.can_write_orders()
                    report(f"{shop.id} woocommerce write-back", writes,
                           "the key may write orders (notes, meta)" if writes else
                           "the key may not write orders: give it Read/Write permissions "
                           "(write_back = true needs them)")
            except WooRestAuthError as exc:
                report(f"{shop.id} woocommerce", False, str(exc))
            except WooRestError as exc:
                report(f"{shop.id} woocommerce", False, str(exc), EXIT_UNAVAILABLE)
    runtime.close()
    if problems:
        sys.exit(max(problems))
