from __future__ import annotations

from fastapi import Request


def public_base(request: Request) -> str:
    """Where clients reach us: ``MODELSNEST_PUBLIC_URL`` when set, else the address they used."""
    configured = request.app.state.services.settings.public_url
    return str(configured or request.base_url).rstrip("/")
