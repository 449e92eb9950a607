"""The public, OpenAI-compatible API under ``/api/v1``."""

from fastapi import APIRouter

from modelsnest.api.v1 import account, chat, media, models

router = APIRouter(prefix="/api/v1")
router.include_router(chat.router)
router.include_router(models.router)
router.include_router(account.router)
router.include_router(media.router)

__all__ = ["router"]
