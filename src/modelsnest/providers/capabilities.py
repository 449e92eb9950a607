"""Capability names: what a provider kind (and its adapter) can serve.

A leaf module, so the kind declarations in ``kinds`` can name capabilities without loading
any adapter code. ``media_base`` re-exports them for the adapters.
"""

from __future__ import annotations

from typing import Final

CHAT: Final = "chat"
STREAM: Final = "stream"
EMBEDDINGS: Final = "embeddings"
IMAGES: Final = "images"
TRANSCRIPTION: Final = "transcription"
SPEECH: Final = "speech"
VIDEO: Final = "video"
RERANK: Final = "rerank"
ALL_CAPABILITIES: Final = frozenset({CHAT, STREAM, EMBEDDINGS, IMAGES, TRANSCRIPTION, SPEECH, VIDEO, RERANK})

__all__ = [
    "ALL_CAPABILITIES",
    "CHAT",
    "EMBEDDINGS",
    "IMAGES",
    "RERANK",
    "SPEECH",
    "STREAM",
    "TRANSCRIPTION",
    "VIDEO",
]
