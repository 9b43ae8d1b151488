"""``python -m bridge.upstreams.econt.simulator``: serve the simulator until Ctrl-C."""

import sys

from bridge.upstreams.econt.simulator.server import main

if __name__ == "__main__":
    sys.exit(main())
