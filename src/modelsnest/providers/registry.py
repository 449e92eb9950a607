"""The provider registry: provider kinds by name, and ``build_provider`` for the gateway.

Every kind, built-in or plugin, is one ``ProviderKind`` (see ``kinds``) added through the same
call, so there is no ``if kind == …`` chain anywhere and adding a kind edits nothing else:

    register("mistral", OpenAICompatProvider, label="Mistral",
             default_base_url="https://api.mistral.ai/v1", env_var="MISTRAL_API_KEY")
    build_provider(ProviderConfig(name="mistral", kind="mistral", api_key=...))

Installed packages add kinds through the ``modelsnest.providers`` entry-point group, each entry
naming a ``ProviderKind`` (``mistral = "my_package.kinds:MISTRAL"``); they are loaded once,
when this module is first imported.

Every adapter satisfies ``protocol.Provider`` (chat + media methods, ``close``,
``capabilities``); what it cannot serve raises ``ProviderUnsupported``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import replace
from importlib.metadata import entry_points

from modelsnest.providers.capabilities import ALL_CAPABILITIES
from modelsnest.providers.errors import ProviderUnsupported
from modelsnest.providers.kinds import BUILTIN_KINDS, ProviderFactory, ProviderKind
from modelsnest.providers.protocol import Provider
from modelsnest.providers.types import ProviderConfig

__all__ = [
    "ENTRY_POINT_GROUP",
    "Provider",
    "ProviderFactory",
    "ProviderKind",
    "ProviderRegistry",
    "build_provider",
    "default_registry",
    "register",
    "register_kind",
]

ENTRY_POINT_GROUP = "modelsnest.providers"

log = logging.getLogger(__name__)


class ProviderRegistry:
    """Provider kinds by name, in the order they were registered."""

    def __init__(self, kinds: Iterable[ProviderKind] = ()) -> None:
        self._kinds: dict[str, ProviderKind] = {}
        for kind in kinds:
            self.register_kind(kind)

    def register_kind(self, kind: ProviderKind, *, replace: bool = False) -> ProviderKind:
        """Add ``kind``; a taken name needs ``replace=True``. Two kinds cannot share an
        environment variable (the seed would not know which one a key is for)."""
        if kind.name in self._kinds and not replace:
            raise ValueError(f"provider kind {kind.name!r} is already registered")
        if kind.env_var is not None:
            for other in self._kinds.values():
                if other.env_var == kind.env_var and other.name != kind.name:
                    raise ValueError(
                        f"provider kinds {other.name!r} and {kind.name!r} cannot both use {kind.env_var}"
                    )
        self._kinds[kind.name] = kind
        return kind

    def register(
        self,
        name: str,
        factory: ProviderFactory,
        *,
        label: str | None = None,
        capabilities: Iterable[str] | None = None,
        default_base_url: str | None = None,
        env_var: str | None = None,
        requires_api_key: bool = True,
        requires_base_url: bool = True,
        description: str = "",
        replace: bool = False,
    ) -> ProviderKind:
        """Declare and add a kind in one call. ``label`` defaults to the name and
        ``capabilities`` to the factory's own ``capabilities`` (adapter classes have one), else
        to all of them: what the adapter cannot serve it refuses with ``ProviderUnsupported``."""
        if capabilities is None:
            capabilities = getattr(factory, "capabilities", ALL_CAPABILITIES)
        kind = ProviderKind(
            name=name,
            label=label or name,
            factory=factory,
            capabilities=frozenset(capabilities),
            default_base_url=default_base_url,
            env_var=env_var,
            requires_api_key=requires_api_key,
            requires_base_url=requires_base_url,
            description=description,
        )
        return self.register_kind(kind, replace=replace)

    def unregister(self, name: str) -> None:
        self._kinds.pop(name, None)

    def get(self, name: str) -> ProviderKind | None:
        return self._kinds.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def __iter__(self) -> Iterator[ProviderKind]:
        """Every kind, in registration order (built-ins first)."""
        return iter(tuple(self._kinds.values()))

    def __len__(self) -> int:
        return len(self._kinds)

    def kinds(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._kinds)

    def env_vars(self) -> dict[str, str]:
        """Kind name → the environment variable carrying its API key, for kinds that have one."""
        return {kind.name: kind.env_var for kind in self._kinds.values() if kind.env_var is not None}

    def build(self, config: ProviderConfig) -> Provider:
        """The adapter for ``config.kind``, with the kind's default base URL when the config
        has none; an unknown kind raises ``ProviderUnsupported``."""
        kind = self._kinds.get(config.kind)
        if kind is None:
            raise ProviderUnsupported(f"unknown provider kind {config.kind!r}")
        if not config.base_url and kind.default_base_url:
            config = replace(config, base_url=kind.default_base_url)
        return kind.build(config)


def load_entry_points(registry: ProviderRegistry, group: str = ENTRY_POINT_GROUP) -> list[str]:
    """Register the ``ProviderKind`` every installed entry point of ``group`` names; returns
    their names. A plugin that fails to load is logged and skipped, so one broken package
    cannot take the platform down (its providers then fail as an unknown kind)."""
    loaded: list[str] = []
    for entry in entry_points(group=group):
        try:
            kind = entry.load()
            if not isinstance(kind, ProviderKind):
                raise TypeError(f"{entry.value} is a {type(kind).__name__}, not a ProviderKind")
            registry.register_kind(kind)
        except Exception:
            log.exception("provider plugin %s (%s) not loaded", entry.name, entry.value)
            continue
        loaded.append(kind.name)
    return loaded


default_registry = ProviderRegistry(BUILTIN_KINDS.values())
load_entry_points(default_registry)


# ``register(...)`` and ``register_kind(kind)`` add to the default registry.
register = default_registry.register
register_kind = default_registry.register_kind


def build_provider(config: ProviderConfig) -> Provider:
    """Build the adapter for ``config`` from the default registry."""
    return default_registry.build(config)
