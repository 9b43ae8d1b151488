"""The shop side, as the product needs it: the WooCommerce REST API client (``rest``, for
backfill and reconciliation) and PHP-compatible JSON encoding (``php_json``)."""
