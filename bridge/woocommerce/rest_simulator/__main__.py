"""``python -m bridge.woocommerce.rest_simulator``: serve a seeded shop until Ctrl-C."""

from bridge.woocommerce.rest_simulator.server import main

if __name__ == "__main__":
    main()
