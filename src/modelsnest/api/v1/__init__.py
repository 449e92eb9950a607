"""The public, OpenAI-compatible API under ``/api/v1``."""

from fastapi import APIRouter

from modelsnest.api.v1 import account, chat, models

router = APIRouter(prefix="/api/v1")
router.include_router(chat.router)
router.include_router(models.router)
router.include_router(account.router)

__all__ = ["router"]
