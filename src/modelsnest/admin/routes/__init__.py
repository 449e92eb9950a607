"""The ``/admin`` pages. Every route is on ``router``, whose dependency lets only signed-in
administrators through (anonymous → sign-in page, anyone else → 403 page) and checks the CSRF
token of every state-changing request."""

from __future__ import annotations

from fastapi import APIRouter

from modelsnest.admin.routes import audit, catalog, ledger, overview, payment_checks, providers, store, users

__all__ = ["build_router"]


def build_router() -> APIRouter:
    router = APIRouter()
    for module in (overview, users, catalog, providers, ledger, payment_checks, audit, store):
        router.include_router(module.router)
    return router
