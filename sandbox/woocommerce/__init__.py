"""The shop side, simulated: a WooCommerce-faithful webhook sender (``sender``), sample orders
(``samples``) and a simulator of the WooCommerce REST API (``rest_simulator``)."""
