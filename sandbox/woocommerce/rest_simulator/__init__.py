"""An offline imitation of a shop's WooCommerce REST API (orders, v3), to test the backfill
client (``bridge.woocommerce.rest``) against real HTTP.

Run it with ``run_rest_simulator()`` (background thread, for tests) or
``python -m sandbox.woocommerce.rest_simulator`` (a seeded shop in the foreground).

What follows WooCommerce / WordPress source (woocommerce/woocommerce trunk, WordPress 6.x):

- routes ``GET /wp-json/wc/v3/orders`` and ``/wp-json/wc/v3/orders/<id>``, also reachable as
  ``/?rest_route=/wc/v3/orders`` (WordPress routes plain permalinks that way); an unknown route
  or method answers 404 ``rest_no_route``;
- authentication exactly as ``WC_REST_Authentication`` (class-wc-rest-authentication.php):
  with ``ssl`` (WordPress's ``is_ssl()``) Basic auth or ``consumer_key``/``consumer_secret``
  query parameters are tried first; then OAuth 1.0a one-legged from the query string or an
  ``Authorization: OAuth`` header, with its error codes and messages, the base string built
  from the home URL with the scheme ``is_ssl()`` implies, HMAC-SHA1/SHA256, 15 minutes of
  timestamp skew, and nonces remembered per key *by timestamp* (as the real nonce store is).
  An unknown key over Basic, or Basic over plain HTTP, sets no error: the request goes on
  unauthenticated and the permission check answers 401 ``woocommerce_rest_cannot_view``;
- the key's read/write permission (``check_permissions``) before routing, parameter validation
  before the permission check (``WP_REST_Server::dispatch`` order);
- collection parameters and their validation errors (``WC_REST_CRUD_Controller`` and the
  orders controllers' ``get_collection_params``; messages of WordPress's
  ``rest_validate_value_from_schema``), answered as 400 ``rest_invalid_param`` with ``params``
  and ``details``;
- filtering: ``after``/``before`` on the created date, ``modified_after``/``modified_before``
  on the modified date, strict comparisons, against the GMT column with ``dates_are_gmt``
  and the shop-local column without it; a bound carrying an offset is first converted to
  shop-local time by ``WP_Date_Query::build_mysql_datetime`` (so ``...Z`` with
  ``dates_are_gmt=true`` is off by the shop's offset -- real behaviour);
- ordering with ``ID`` as tie-breaker for ``date``/``modified`` (``prepare_objects_query``),
  ``offset`` overriding ``page``, ``X-WP-Total``/``X-WP-TotalPages`` counted over the whole
  filtered set (also for a page past the end), and one ``Link`` header with only
  ``rel="prev"``/``rel="next"``, built from the request's own query parameters (including any
  ``oauth_*`` ones, as ``add_query_arg( $request->get_query_params() )`` does);
- single order: 404 ``woocommerce_rest_shop_order_invalid_id`` "Invalid ID."; without a user,
  401 ``woocommerce_rest_cannot_view`` "Sorry, you cannot view this resource." even for a
  missing id (``WC_REST_Orders_V2_Controller::get_item_permissions_check``);
- bodies encoded like ``wp_json_encode`` (``\\/`` and ``\\uXXXX`` escapes).

Our assumptions / simplifications:

- the key's WordPress user may read every order; ``search`` is accepted but not applied;
  ``title``/``slug`` ordering uses the post title WooCommerce gives orders
  (``Order &ndash; M d, Y @ h:i A``, shop-local creation time);
- ``status=any`` excludes ``trash`` and ``auto-draft`` (``WP_Query`` "any" skips statuses
  excluded from search);
- the local date fields of stored orders are recomputed from their ``*_gmt`` twins in the
  simulator's time zone, so the two columns always agree;
- links use the URL the client connected to (WordPress uses its configured home URL); query
  values in links are percent-encoded (``add_query_arg`` leaves them raw);
- a 500 fault answers with the JSON WordPress's fatal-error handler gives REST requests;
  502/503/504 faults answer with a proxy's HTML page. Faults and ``latency`` are OUR test
  tools (``X-Simulator-Fault`` header on fault answers).
Modules: ``state`` (RestSimulatorState, ApiKey, RestFault, RestRequestRecord, the demo key),
``php`` (PHP and WordPress helpers), ``responses`` (JSON, ``WP_Error`` and fault answers),
``auth`` (WC_REST_Authentication), ``params`` (parameter validation), ``listing`` (filtering,
ordering, paging, the ``Link`` header), ``app`` (create_rest_simulator_app) and ``server``
(RunningRestSimulator, run_rest_simulator, main).
"""

from __future__ import annotations

from sandbox.woocommerce.rest_simulator.app import create_rest_simulator_app
from sandbox.woocommerce.rest_simulator.server import (
    RunningRestSimulator,
    main,
    run_rest_simulator,
)
from sandbox.woocommerce.rest_simulator.state import (
    DEMO_CONSUMER_KEY,
    DEMO_CONSUMER_SECRET,
    ORDER_STATUSES,
    ApiKey,
    RestFault,
    RestRequestRecord,
    RestSimulatorState,
)

# A public name (outside __all__) of the single module; still here.
from sandbox.woocommerce.rest_simulator.state import ORDERS_ROUTE as ORDERS_ROUTE

__all__ = [
    "DEMO_CONSUMER_KEY",
    "DEMO_CONSUMER_SECRET",
    "ORDER_STATUSES",
    "ApiKey",
    "RestFault",
    "RestRequestRecord",
    "RestSimulatorState",
    "RunningRestSimulator",
    "create_rest_simulator_app",
    "main",
    "run_rest_simulator",
]
