"""``Provider``: what ``build_provider`` returns. Every adapter has the chat methods
(``ChatProvider``), the media methods (``MediaProvider``), ``close()`` and its
``capabilities``; a method outside its capabilities raises ``ProviderUnsupported``.

Capability names (``media_base``): ``chat``, ``stream``, ``embeddings``, ``images``,
``transcription``, ``speech``, ``video``.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

from modelsnest.providers.media_types import MediaProvider
from modelsnest.providers.types import ChatProvider

__all__ = ["Provider"]


class Provider(ChatProvider, MediaProvider, Protocol):
    capabilities: ClassVar[frozenset[str]]
