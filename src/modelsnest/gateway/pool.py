"""One adapter (and so one pooled HTTP client) per provider configuration, reused by every
request; rebuilt only when an operator changes the provider."""

from __future__ import annotations

import logging
from typing import Any

from modelsnest.providers.registry import build_provider
from modelsnest.providers.types import ProviderConfig

log = logging.getLogger(__name__)


def _fingerprint(config: ProviderConfig) -> tuple[Any, ...]:
    return (
        config.kind,
        config.base_url,
        config.api_key,
        config.connect_timeout,
        config.first_byte_timeout,
        config.total_timeout,
        tuple(sorted((k, repr(v)) for k, v in config.extra.items())),
    )


class ProviderPool:
    def __init__(self) -> None:
        self._adapters: dict[str, tuple[tuple[Any, ...], Any]] = {}
        self._retired: list[Any] = []

    def get(self, config: ProviderConfig) -> Any:
        fingerprint = _fingerprint(config)
        entry = self._adapters.get(config.name)
        if entry is not None and entry[0] == fingerprint:
            return entry[1]
        if entry is not None:
            # In-flight requests may still use the old adapter: close it at shutdown, not now.
            self._retired.append(entry[1])
        adapter = build_provider(config)
        self._adapters[config.name] = (fingerprint, adapter)
        return adapter

    async def close(self) -> None:
        for adapter in [a for _, a in self._adapters.values()] + self._retired:
            try:
                await adapter.close()
            except Exception:  # closing is best effort at shutdown
                log.warning("closing provider adapter failed", exc_info=True)
        self._adapters.clear()
        self._retired.clear()
