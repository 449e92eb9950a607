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
ENDPOINTS: Final = ("chat", "embeddings", "images", "transcription", "speech", "video", "rerank")

# The price units that make sense for each endpoint. A model priced in any other unit is a
# catalog error (``INVALID_PRICING``): e.g. a chat model priced per image.
UNITS_BY_ENDPOINT: Final[Mapping[str, frozenset[str]]] = {
    "chat": frozenset({"per_1k_tokens", "per_request"}),
    "embeddings": frozenset({"per_1k_tokens", "per_request"}),
    "images": frozenset({"per_image", "per_request"}),
    "transcription": frozenset({"per_second", "per_minute", "per_request"}),
    "speech": frozenset({"per_character", "per_1k_characters", "per_request"}),
    "video": frozenset({"per_second", "per_minute", "per_request"}),
    # per_request: per search (a query and up to 100 documents); per_1k_tokens: the tokens read.
    "rerank": frozenset({"per_request", "per_1k_tokens"}),
}

# Category slug → the endpoints its models may use.
CATEGORY_ENDPOINTS: Final[Mapping[str, frozenset[str]]] = {
    "text": frozenset({"chat"}),
    "multimodal": frozenset({"chat"}),
    "embeddings": frozenset({"embeddings", "rerank"}),
    "image": frozenset({"images"}),
    "audio": frozenset({"transcription", "speech"}),
    "video": frozenset({"video"}),
}

MODEL_STATUSES: Final = ("active", "beta", "deprecated", "disabled")


# The dimensions a price can charge for. Token dimensions are priced per ``per_1k_tokens``
# (the base input and output are ``PriceInfo.input_nanos``/``output_nanos``); ``image`` is a
# per-image price of one variant (size, or size/quality).
INPUT_DIMENSIONS: Final = ("input", "cached_input", "cache_write", "cache_write_1h", "audio_input")
OUTPUT_DIMENSIONS: Final = ("output", "reasoning", "audio_output")
TOKEN_DIMENSIONS: Final = INPUT_DIMENSIONS + OUTPUT_DIMENSIONS
PRICE_DIMENSIONS: Final = (*TOKEN_DIMENSIONS, "image")
# A dimension that is not priced apart is billed at the price of this one (recursively):
# a model without a cache-read price bills cached tokens as input, reasoning as output, …
PRICED_AS: Final[Mapping[str, str]] = {
    "cached_input": "input",
    "cache_write": "input",
    "cache_write_1h": "cache_write",
    "audio_input": "input",
    "reasoning": "output",
    "audio_output": "output",
}


@dataclass(frozen=True, slots=True)
class PriceComponent:
    """One priced dimension beyond the base input/output, in nanos per price unit.

    ``variant``: an image variant, ``"1024x1024/high"`` (size and quality) or ``"1024x1024"``
    (any quality); '' for token dimensions. ``above_input_tokens`` > 0: a context tier, the
    price of this dimension for a request whose input exceeds that many tokens."""

    dimension: str
    price_nanos: int
    variant: str = ""
    above_input_tokens: int = 0

    @property
    def key(self) -> str:
        """``dimension[:variant][>tokens]``: how CLIs, forms and seeds name a component."""
        text = self.dimension
        if self.variant:
            text += f":{self.variant}"
        if self.above_input_tokens:
            text += f">{self.above_input_tokens}"
        return text


@dataclass(frozen=True, slots=True)
class PriceInfo:
    """A price in nano-dollars per ``unit``: the base input and output (``output_nanos`` is used
    by token units only), then any further dimensions, tiers and image variants.

    ``version_id`` is the ``ai_model_pricing`` row this price was read from (None for a price
    built in code); a request records it, so it is billed at the version it was admitted at."""

    unit: str
    input_nanos: int
    output_nanos: int = 0
    components: tuple[PriceComponent, ...] = ()
    version_id: int | None = None

    def tiers(self) -> tuple[int, ...]:
        """The context tier thresholds, ascending (0, the base tier, first)."""
        return (0, *sorted({c.above_input_tokens for c in self.components if c.above_input_tokens}))

    def tier_for(self, input_tokens: int) -> int:
        """The tier a request with ``input_tokens`` falls in: the highest threshold it exceeds."""
        tier = 0
        for threshold in self.tiers():
            if input_tokens > threshold:
                tier = threshold
        return tier

    def own_price(self, dimension: str, tier: int = 0) -> tuple[int, int] | None:
        """(nanos, tier used) of ``dimension`` itself at ``tier``: the price of the highest
        tier at or below ``tier`` that prices it, or None when it is not priced apart."""
        best: tuple[int, int] | None = None
        if dimension in ("input", "output"):
            best = (self.input_nanos if dimension == "input" else self.output_nanos, 0)
        for c in self.components:
            applies = c.dimension == dimension and not c.variant and c.above_input_tokens <= tier
            if applies and (best is None or c.above_input_tokens >= best[1]):
                best = (c.price_nanos, c.above_input_tokens)
        return best

    def price_of(self, dimension: str, tier: int = 0) -> tuple[int, str, int]:
        """(nanos, dimension priced as, tier used) for a token dimension, following
        ``PRICED_AS`` when the dimension is not priced apart."""
        current = dimension
        while True:
            found = self.own_price(current, tier)
            if found is not None:
                return found[0], current, found[1]
            current = PRICED_AS[current]

    def image_variants(self) -> tuple[PriceComponent, ...]:
        return tuple(c for c in self.components if c.dimension == "image")


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
    # What the provider charges the operator on this route (None: unknown).
    cost: PriceInfo | None = None


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
    "ENDPOINTS",
    "INPUT_DIMENSIONS",
    "MODEL_STATUSES",
    "OUTPUT_DIMENSIONS",
    "PRICED_AS",
    "PRICE_DIMENSIONS",
    "TOKEN_DIMENSIONS",
    "UNITS_BY_ENDPOINT",
    "CatalogSnapshot",
    "ModelInfo",
    "PriceComponent",
    "PriceInfo",
    "RouteInfo",
]
