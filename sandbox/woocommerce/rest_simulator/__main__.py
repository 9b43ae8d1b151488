"""``python -m sandbox.woocommerce.rest_simulator``: serve a seeded shop until Ctrl-C."""

from sandbox.woocommerce.rest_simulator.server import main

if __name__ == "__main__":
    main()
