"""``python -m sandbox.econt``: serve the simulator until Ctrl-C."""

import sys

from sandbox.econt.server import main

if __name__ == "__main__":
    sys.exit(main())
