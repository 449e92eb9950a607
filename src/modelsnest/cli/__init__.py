"""The ``modelsnest`` command line (filled in by the CLI module)."""


def main() -> None:
    raise SystemExit("modelsnest: the CLI is not built yet")
