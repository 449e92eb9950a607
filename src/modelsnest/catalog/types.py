"""The catalog's vocabulary and the immutable, in-memory view of it the hot path reads.

``ModelInfo``, ``PriceInfo`` and ``RouteInfo`` are what ``CatalogCache`` hands to the gateway:
frozen dataclasses whose mappings are read-only, so one snapshot can be shared by every
request of a process without copying or locking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from modelsnest.providers.types import ProviderConfig

# Which API of ours serves a model (``ai_models.endpoint``).
ENDPOINTS: Final = ("chat", "embeddings", "images", "transcription", "speech", "video")

# The price units that make sense for each endpoint. A model priced in any other unit is a
# catalog error (``INVALID_PRICING``): e.g. a chat model priced per image.
UNITS_BY_ENDPOINT: Final[Mapping[str, frozenset[str]]] = {
    "chat": frozenset({"per_1k_tokens", "per_request"}),
    "embeddings": frozenset({"per_1k_tokens", "per_request"}),
    "images": frozenset({"per_image", "per_request"}),
    "transcription": frozenset({"per_second", "per_minute", "per_request"}),
    "speech": frozenset({"per_character", "per_1k_characters", "per_request"}),
    "video": frozenset({"per_second", "per_minute", "per_request"}),
}

# Category slug → the endpoints its models may use.
CATEGORY_ENDPOINTS: Final[Mapping[str, frozenset[str]]] = {
    "text": frozenset({"chat"}),
    "multimodal": frozenset({"chat"}),
    "embeddings": frozenset({"embeddings"}),
    "image": frozenset({"images"}),
    "audio": frozenset({"transcription", "speech"}),
    "video": frozenset({"video"}),
}

# Provider kinds the ``providers`` table accepts (and adapters exist or are planned for).
PROVIDER_KINDS: Final = ("openai", "anthropic", "simulator", "novita", "elevenlabs")

# Default upstream base URL per kind, used when an operator gives none.
DEFAULT_BASE_URLS: Final[Mapping[str, str]] = {
    "novita": "https://api.novita.ai/v3/openai",
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "elevenlabs": "https://api.elevenlabs.io",
}

MODEL_STATUSES: Final = ("active", "beta", "deprecated", "disabled")


@dataclass(frozen=True, slots=True)
class PriceInfo:
    """A model's price in nano-dollars per ``unit``; ``output_nanos`` is used by token units only."""

    unit: str
    input_nanos: int
    output_nanos: int = 0


@dataclass(frozen=True, slots=True)
class RouteInfo:
    """One enabled route to an enabled provider, with everything an adapter needs."""

    route_id: int
    provider_id: int
    provider: ProviderConfig
    upstream_model: str
    priority: int
    weight: int
    # The shared circuit breaker state when the snapshot was loaded (None = closed).
    circuit_open_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: int
    slug: str
    name: str
    vendor: str
    category: str
    endpoint: str
    status: str
    description: str | None
    context_length: int | None
    max_output_tokens: int | None
    capabilities: Mapping[str, Any]
    upstream_ids: Mapping[str, str]
    pricing: PriceInfo | None
    routes: tuple[RouteInfo, ...]

    @property
    def available(self) -> bool:
        """Callable at all: listed as active or beta (deprecated models still answer)."""
        return self.status != "disabled"


@dataclass(frozen=True, slots=True)
class CatalogSnapshot:
    """Everything the hot path needs, loaded at one moment. Never mutated after creation."""

    models: Mapping[str, ModelInfo]
    loaded_at: datetime

    def get(self, slug: str) -> ModelInfo | None:
        return self.models.get(slug)


__all__ = [
    "CATEGORY_ENDPOINTS",
    "DEFAULT_BASE_URLS",
    "ENDPOINTS",
    "MODEL_STATUSES",
    "PROVIDER_KINDS",
    "UNITS_BY_ENDPOINT",
    "CatalogSnapshot",
    "ModelInfo",
    "PriceInfo",
    "RouteInfo",
]
