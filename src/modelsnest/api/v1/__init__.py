"""The public, OpenAI-compatible API under ``/api/v1``."""

from fastapi import APIRouter

from modelsnest.api.lane import Handler, LaneRoute, add_to_router
from modelsnest.api.v1 import account, agents, credits, media, messages, models, paid, store

PREFIX = "/api/v1"

router = APIRouter(prefix=PREFIX)
add_to_router(router, paid.ROUTES)
router.include_router(models.router)
router.include_router(account.router)
router.include_router(media.router)
router.include_router(credits.router)
router.include_router(store.router)
router.include_router(messages.router)
router.include_router(agents.router)

# The routes the fast lane may serve, by (method, full path).
LANE_ROUTES: tuple[LaneRoute, ...] = paid.ROUTES


def lane_table() -> dict[tuple[str, str], Handler]:
    return {(route.method, PREFIX + route.path): route.handler for route in LANE_ROUTES}


__all__ = ["LANE_ROUTES", "PREFIX", "lane_table", "router"]
