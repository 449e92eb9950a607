"""The ``modelsnest`` command line. Commands call services, never HTTP routes."""

from modelsnest.cli.app import app, main

__all__ = ["app", "main"]
