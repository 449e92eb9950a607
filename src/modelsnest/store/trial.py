"""One store call from the dashboard's "try it" builder: method, path, query, headers and body
given as values (no HTTP request object), sent through ``Store.call`` exactly like
``ANY /api/v1/store/{slug}/{path}`` (same rules, hold, settlement and usage row), with the
answer read whole and the bill read back for the page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from modelsnest import billing
from modelsnest.auth.caller import Caller
from modelsnest.billing.reports import get_request_usage
from modelsnest.store.service import ENDPOINT, Store, StoreRequest


@dataclass(frozen=True)
class TrialAnswer:
    """What the product answered and what it cost (``cost_nanos`` is None when no usage row
    was written: a refusal before the call was admitted)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    media_type: str
    cost_nanos: int | None
    balance_nanos: int


async def _once(body: bytes) -> AsyncIterator[bytes]:
    if body:
        yield body


async def try_product(
    store: Store,
    caller: Caller,
    *,
    slug: str,
    method: str,
    path: str,
    query_string: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    request_id: str,
) -> TrialAnswer:
    """Call ``slug`` once as ``caller`` (``Caller.signed_in(..., origin="store")``); raises the
    store's own errors (404 unknown product, 405 method, 402 balance, …) like the API does."""
    incoming = StoreRequest(
        slug=slug,
        raw_path=path.lstrip("/"),
        method=method,
        query_string=query_string.lstrip("?"),
        headers=list(headers),
        body=_once(body),
        content_length=len(body),
        store_base=f"{ENDPOINT}/{slug}/",
    )
    answer = await store.call(caller, incoming, request_id)
    chunks = [chunk async for chunk in answer.chunks]
    content_type = next((v for k, v in answer.headers if k.lower() == "content-type"), None)
    media_type = (content_type or answer.media_type or "application/octet-stream").split(";", 1)[0]
    sessions = store.gateway.sessions
    entry = await get_request_usage(sessions, user_id=caller.user_id, request_id=request_id)
    balance = await billing.get_balance(sessions, caller.user_id)
    return TrialAnswer(
        status=answer.status,
        headers=answer.headers,
        body=b"".join(chunks),
        media_type=media_type.strip().lower(),
        cost_nanos=entry.cost_nanos if entry is not None else None,
        balance_nanos=balance.available_nanos,
    )
