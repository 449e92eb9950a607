"""``ANY /api/v1/store/{slug}/{path}``: an API Store call (``modelsnest.store``).

One FastAPI route per method (``schemas.store``: one documented operation each, with its own
``operationId``: the key, the path parameters and our errors; the product's own request and
answer are left open, each product's docs describe its API). The handler declares no body,
so FastAPI reads none: the key is checked before a byte of the body is read; the body streams
to the upstream and the answer streams back."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from modelsnest.api.deps import services_of
from modelsnest.api.schemas import store as schemas
from modelsnest.auth.caller import Caller
from modelsnest.errors import InvalidRequest
from modelsnest.store import StoreRequest

PATH = "/store/{slug}/{path:path}"
METHODS = list(schemas.METHODS)
_PREFIX = "/api/v1/store/"


def _raw_rest(request: Request, slug: str) -> str:
    """The path below the product, as the client sent it (still percent-encoded)."""
    raw: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
    text = raw.split(b"?", 1)[0].decode("latin-1")
    if not text.startswith(_PREFIX):
        raise InvalidRequest("The path must be relative to the product.", code="INVALID_PATH", param="path")
    rest = text[len(_PREFIX) :]
    _, _, below = rest.partition("/")
    return below


def _content_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    if not value.isdigit():
        raise InvalidRequest("Content-Length must be a number.", param="content-length")
    return int(value)


async def store_call(request: Request) -> Response:
    services = services_of(request)
    principal = await services.keys.verify(request.headers.get("authorization"))  # 401 first
    caller = Caller.from_key(principal, origin="store")
    slug = str(request.path_params["slug"])
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]]

    async def body() -> AsyncIterator[bytes]:
        async for chunk in request.stream():
            yield chunk

    incoming = StoreRequest(
        slug=slug,
        raw_path=_raw_rest(request, slug),
        method=request.method,
        query_string=request.scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=body(),
        content_length=_content_length(request),
        store_base=f"{_PREFIX}{slug}/",
    )
    request_id = str(request.scope.get("state", {}).get("request_id") or "")
    answer = await services.store.call(caller, incoming, request_id)
    response = StreamingResponse(answer.chunks, status_code=answer.status)
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
    if answer.media_type and not any(k == b"content-type" for k, _ in raw):
        raw.append((b"content-type", answer.media_type.encode("latin-1")))
    if request.method == "HEAD":
        raw = [(k, v) for k, v in raw if k != b"content-length"]
    response.raw_headers = raw
    return response


router = APIRouter()
for _method in METHODS:
    router.add_api_route(
        PATH,
        store_call,
        methods=[_method],
        name=f"store_call_{_method.lower()}",
        operation_id=f"store_call_{_method.lower()}",
        summary=f"Call an API Store product ({_method})",
        description="Calls the product `slug` at `path` (with the query string and body as sent), "
        "billed from the key owner's credits at the product's price. Errors before the product "
        "answers are ours, in the one error shape; the product's own answers pass through.",
        response_model=None,
        response_class=Response,  # the product's media type, not FastAPI's JSON default
        **schemas.operation(_method),
    )
