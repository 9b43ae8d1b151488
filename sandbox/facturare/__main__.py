"""``python -m sandbox.facturare``: serve the simulator until Ctrl-C."""

from sandbox.facturare.command import facturare_command

if __name__ == "__main__":
    facturare_command()
