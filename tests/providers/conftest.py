"""The fakes this package needs beyond those ``tests/conftest.py`` imports for every package
(harmless once ``tests/conftest.py`` imports them too)."""

from tests.fakes.fixtures import (  # noqa: F401
    _elevenlabs_upstream_server,
    _novita_upstream_server,
    elevenlabs_upstream,
    elevenlabs_upstream_in_loop,
    novita_upstream,
    novita_upstream_in_loop,
)
