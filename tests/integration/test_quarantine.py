"""A delivery (or spool file) that cannot be stored or processed is tried a few times and then
quarantined with its reason -- visible in the admin API, /readyz, /metrics and ``status`` --
and never holds up the ones behind it. The database refuses for real: a trigger rejects one
order's row (or one delivery's insert) the way a value the database cannot take would."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bridge.cli import cli
from bridge.config.model import Settings
from bridge.intake.failures import MAX_TRIES
from bridge.intake.process import DeliveryProcessor
from bridge.intake.spool import Spool, SpooledDelivery
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.storage.database import Database
from bridge.storage.models import Delivery, OrderSync
from bridge.upstreams.registry import UpstreamRegistry
from bridge.woocommerce.php_json import php_json_encode
from sandbox.config import bridge_config, write_config
from sandbox.econt import econt_upstream
from sandbox.woocommerce.samples import build_order
from tests.conftest import SHOP, WEBHOOK_SECRET, admin_headers

POISON_ORDER = 666
REFUSAL = "refused by the test trigger"


def _refuse(db: Database, table: str, condition: str) -> None:
    """Make the database refuse INSERTs into ``table`` whose new row matches ``condition``."""
    with db.engine.begin() as connection:
        if db.is_postgres:
            connection.exec_driver_sql(f"""
                CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF {condition} THEN RAISE EXCEPTION '{REFUSAL}'; END IF;
                  RETURN NEW;
                END $$""")
            connection.exec_driver_sql(f"CREATE TRIGGER refuse BEFORE INSERT ON {table} "
                                       "FOR EACH ROW EXECUTE FUNCTION refuse()")
        else:
            connection.exec_driver_sql(f"""
                CREATE TRIGGER refuse BEFORE INSERT ON {table} WHEN {condition}
                BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""")


def _stop_refusing(db: Database, table: str) -> None:
    with db.engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TRIGGER refuse ON {table}" if db.is_postgres
                                   else "DROP TRIGGER refuse")


@pytest.fixture
def processor(db: Database, settings: Settings,
              memory_registry: UpstreamRegistry) -> DeliveryProcessor:
    return DeliveryProcessor(db, settings, memory_registry)


@pytest.fixture
def store(db: Database, settings: Settings) -> Iterator[DeliveryStore]:
    yield DeliveryStore(db, Spool(settings.server.spool_dir))


def order_delivery(order_id: int) -> IncomingDelivery:
    return IncomingDelivery(shop=SHOP, topic="order.created",
                            body=php_json_encode(build_order(order_id=order_id)))


def deliveries(db: Database) -> dict[int | None, Delivery]:
    with db.read() as session:
        return {d.order_id: d for d in session.execute(select(Delivery)).scalars()}


def gauges(client: FlaskClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = client.get("/metrics").get_data(as_text=True)
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def status(tmp_path: Path, settings: Settings) -> tuple[int, dict[str, Any], str]:
    config = write_config(tmp_path / "status.toml", bridge_config(
        econt_upstream("http://127.0.0.1:9", client_id="0" * 32, token="1" * 32),
        webhook_secret="s", shop_id=SHOP, db_url=settings.database.url,
        spool_dir=settings.server.spool_dir, log_format=None))
    run = CliRunner().invoke
    result = run(cli, ["--config", str(config), "status", "--json", "--check"],
                 catch_exceptions=False)
    text = run(cli, ["--config", str(config), "status"], catch_exceptions=False).output
    return result.exit_code, json.loads(result.output), text


def test_a_delivery_the_database_refuses_is_quarantined_and_the_next_ones_go_on(
        db: Database, store: DeliveryStore, processor: DeliveryProcessor,
        client: FlaskClient, settings: Settings, tmp_path: Path) -> None:
    _refuse(db, "order_sync", f"NEW.order_id = {POISON_ORDER}")
    store.store(order_delivery(POISON_ORDER))
    store.store(order_delivery(1187))

    assert processor.process_pending() == 2  # no outage: the worker never backs off
    first = deliveries(db)
    assert first[1187].status == "processed" and first[1187].outcome == "applied"
    poison = next(d for d in first.values() if d.status == "received")
    assert poison.tries == 1 and REFUSAL in poison.reason

    for _ in range(MAX_TRIES - 1):
        processor.process_pending()
    with db.read() as session:
        poison = session.get(Delivery, poison.id)
    assert poison.status == "quarantined" and poison.tries == MAX_TRIES
    assert poison.reason.startswith(f"quarantined after {MAX_TRIES} tries")
    assert REFUSAL in poison.reason and len(poison.reason) < 1000
    assert processor.process_pending() == 0  # never tried again on its own

    # visible: admin API, /readyz, /metrics, status
    listed = client.get("/admin/api/deliveries?status=quarantined", headers=admin_headers())
    assert listed.status_code == 200
    [view] = listed.get_json()["deliveries"]
    assert (view["id"], view["status"], view["tries"]) == (poison.id, "quarantined", MAX_TRIES)
    assert REFUSAL in view["reason"]
    intake = client.get("/readyz").get_json()["checks"]["intake"]
    assert intake["quarantined_deliveries"] == 1 and intake["unprocessed"] == 0
    assert intake["ok"] is True  # a poison delivery never takes the receiver out of service
    metrics = gauges(client)
    assert metrics[("invoice_bridge_deliveries_quarantined", frozenset({("shop", SHOP)}))] == 1
    code, report, text = status(tmp_path, settings)
    assert code == 1 and report["intake"]["quarantined_deliveries"] == 1
    assert report["shops"][0]["quarantined_deliveries"] == 1
    assert f"{SHOP}: pending 1\n  QUARANTINED deliveries: 1" in text

    # the cause fixed, an operator retries it
    _stop_refusing(db, "order_sync")
    retried = client.post(f"/admin/api/deliveries/{poison.id}/retry", headers=admin_headers())
    assert retried.status_code == 202 and retried.get_json()["delivery"]["status"] == "received"
    assert processor.process_pending() == 1
    assert deliveries(db)[POISON_ORDER].outcome == "applied"
    again = client.post(f"/admin/api/deliveries/{poison.id}/retry", headers=admin_headers())
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_quarantined"


def test_a_spool_file_the_database_refuses_is_quarantined_and_the_rest_import(
        db: Database, store: DeliveryStore, client: FlaskClient) -> None:
    _refuse(db, "deliveries", "NEW.topic = 'order.poison'")
    spool = store.spool
    for topic in ("order.poison", "order.created"):  # the refused one is the oldest
        spool.write(SpooledDelivery(
            key=Spool.new_key(), shop=SHOP, source="webhook",
            received_at=order_delivery(1).received_at, topic=topic, webhook_id="1",
            delivery_id="d", headers={}, body=php_json_encode(build_order(order_id=7))))

    assert store.import_spool() == 1  # the good one, despite the bad one before it
    assert spool.size() == 1 and spool.quarantined() == 0
    for _ in range(MAX_TRIES - 1):
        assert store.import_spool() == 0

    assert spool.size() == 0 and spool.quarantined() == 1
    [moved] = (Path(spool.directory) / "quarantine").glob("*.json")
    assert json.loads(moved.read_bytes())["topic"] == "order.poison"  # kept, whole
    reason = moved.with_name(moved.name + ".reason").read_text()
    assert reason.startswith(f"import failed {MAX_TRIES} times") and REFUSAL in reason
    assert client.get("/readyz").get_json()["checks"]["intake"]["quarantined_spool_files"] == 1
    assert gauges(client)[("invoice_bridge_spool_quarantined_files", frozenset())] == 1


def test_a_delivery_the_database_refuses_at_the_webhook_is_spooled_and_acknowledged(
        db: Database, client: FlaskClient, store: DeliveryStore) -> None:
    _refuse(db, "deliveries", "NEW.topic = 'order.poison'")
    body = php_json_encode(build_order(order_id=8))
    signature = base64.b64encode(
        hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    response = client.post(f"/webhooks/woocommerce/{SHOP}", data=body, headers={
        "X-WC-Webhook-Topic": "order.poison", "X-WC-Webhook-Signature": signature,
        "Content-Type": "application/json"})
    # WooCommerce never retries a failed delivery: refusing it would lose the order
    assert response.status_code == 200 and response.get_json()["spooled"] is True
    assert store.spool.size() + store.spool.quarantined() == 1


def test_header_values_longer_than_their_columns_are_cut_and_kept_whole_in_headers(
        db: Database, store: DeliveryStore) -> None:
    long_id, long_topic = "D" * 70 + "\x00", "order.created" + "x" * 300
    receipt = store.store(IncomingDelivery(
        shop=SHOP, topic=long_topic, webhook_id="9" * 40, delivery_id=long_id,
        headers={"X-WC-Webhook-Delivery-ID": long_id, "X-WC-Webhook-Topic": long_topic},
        body=b'{"id": 1}'))
    assert not receipt.spooled
    with db.read() as session:
        stored = session.get(Delivery, receipt.delivery_id)
    assert len(stored.delivery_id) == 64 and stored.delivery_id.endswith("…")
    assert len(stored.topic) == 200 and len(stored.webhook_id) == 32
    assert stored.headers["X-WC-Webhook-Delivery-ID"] == long_id  # whole, as sent
    assert stored.headers["X-WC-Webhook-Topic"] == long_topic


def test_a_stuck_intake_is_a_readyz_warning(db: Database, store: DeliveryStore,
                                            make_settings: Any,
                                            memory_registry: UpstreamRegistry) -> None:
    from bridge.web import create_app

    strict_age = make_settings({"health": {"max_intake_age": "0s"}})
    client = create_app(strict_age, db=db, upstreams=memory_registry).test_client()
    store.store(order_delivery(9))  # stored; no worker has processed it

    body = client.get("/readyz").get_json()
    intake = body["checks"]["intake"]
    assert intake["ok"] is False and intake["unprocessed"] == 1
    assert intake["oldest_unprocessed_age_seconds"] >= 0
    assert "intake" in body["warnings"] and body["status"] == "ready"
    samples = gauges(client)
    assert ("invoice_bridge_oldest_unprocessed_delivery_seconds", frozenset()) in samples


def test_the_deliveries_list_pages_and_refuses_bad_filters(db: Database, store: DeliveryStore,
                                                          client: FlaskClient) -> None:
    ids = [store.store(order_delivery(n)).delivery_id for n in (1, 2, 3)]
    h = admin_headers()
    first = client.get("/admin/api/deliveries?limit=2", headers=h).get_json()
    assert [d["id"] for d in first["deliveries"]] == ids[:0:-1]
    rest = client.get(f"/admin/api/deliveries?limit=2&cursor={first['next_cursor']}",
                      headers=h).get_json()
    assert [d["id"] for d in rest["deliveries"]] == ids[:1] and rest["next_cursor"] is None
    for query, field in (("status=lost", "status"), ("cursor=x", "cursor"),
                         ("cursor=%D9%A1", "cursor"), ("limit=0", "limit")):
        response = client.get(f"/admin/api/deliveries?{query}", headers=h)
        assert response.status_code == 400, query
        assert response.get_json()["error"]["message"].startswith(f"{field}:")
    arabic = client.post("/admin/api/deliveries/%D9%A1/retry", headers=h)  # ARABIC-INDIC DIGIT ONE
    assert arabic.status_code == 404


def test_the_deliveries_operations_answer_as_documented(db: Database, store: DeliveryStore,
                                                        client: FlaskClient) -> None:
    from bridge.admin.openapi import openapi_document
    from tests.integration.test_openapi import Contract

    contract = Contract(openapi_document())
    h = admin_headers()
    delivery_id = store.store(order_delivery(5)).delivery_id
    listed = client.get("/admin/api/deliveries?status=received", headers=h)
    assert contract.check(listed, "get", "/deliveries", 200)["deliveries"][0]["id"] == delivery_id
    contract.check(client.get("/admin/api/deliveries?status=x", headers=h), "get",
                   "/deliveries", 400)
    path = "/deliveries/{delivery_id}/retry"
    contract.check(client.post(f"/admin/api/deliveries/{delivery_id}/retry", headers=h),
                   "post", path, 409)
    contract.check(client.post("/admin/api/deliveries/999999/retry", headers=h), "post", path,
                   404)
    with db.transaction() as session:
        session.get(Delivery, delivery_id).status = "quarantined"
    contract.check(client.post(f"/admin/api/deliveries/{delivery_id}/retry", headers=h),
                   "post", path, 202)
    for method, url, template in (("get", "/deliveries", "/deliveries"),
                                  ("post", f"/deliveries/{delivery_id}/retry", path)):
        refused = client.open(f"/admin/api{url}", method=method.upper(),
                              headers={"Authorization": "Bearer nope"})
        contract.check(refused, method, template, 401)
    with db.read() as session:
        assert session.execute(select(OrderSync)).first() is None  # only deliveries touched


def test_a_database_outage_is_waited_out_and_never_counted_as_a_try(
        db: Database, store: DeliveryStore, processor: DeliveryProcessor) -> None:
    from sqlalchemy.exc import OperationalError

    if not db.is_postgres:
        pytest.skip("an outage mid-statement needs a server that drops the connection; "
                    "SQLite's outage is its 30 s busy timeout")
    with db.engine.begin() as connection:  # the server goes away in the middle of the INSERT
        connection.exec_driver_sql(f"""
            CREATE FUNCTION vanish() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.order_id = {POISON_ORDER} THEN PERFORM pg_terminate_backend(pg_backend_pid());
              END IF;
              RETURN NEW;
            END $$""")
        connection.exec_driver_sql("CREATE TRIGGER vanish BEFORE INSERT ON order_sync "
                                   "FOR EACH ROW EXECUTE FUNCTION vanish()")
    store.store(order_delivery(POISON_ORDER))

    for _ in range(MAX_TRIES + 1):
        with pytest.raises(OperationalError):  # the worker loop backs off on this
            processor.process_pending()
    [waiting] = deliveries(db).values()
    assert (waiting.status, waiting.tries) == ("received", 0)

    with db.engine.begin() as connection:  # the server is back
        connection.exec_driver_sql("DROP TRIGGER vanish ON order_sync")
    assert processor.process_pending() == 1
    assert deliveries(db)[POISON_ORDER].outcome == "applied"
