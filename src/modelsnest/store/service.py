"""``Store``: one API Store call, from the product's rules to the settled charge.

    product (memory) → rules (method, path, headers, sizes) → address check → limits, slot,
      hold (the most the call can cost) → upstream (or built-in handler) → stream back →
      settle (per call + per MB actually returned; usage row like any model request) or release

What is charged (``billing_policy``): ``2xx`` (the default) charges answers 200-299;
``any_answer`` also charges the upstream's 3xx and 4xx. Never charged: upstream 5xx, timeouts,
connection failures, a response over the size cap, a stream the upstream broke off, and every
refusal of ours (404, 405, 400, 413, 402, 429). A client that disconnects mid-answer is charged
the call and the bytes it was sent. Each call is one ``usage_logs`` row with model
``store/<slug>`` and origin ``store``, visible in ``GET /api/v1/generation``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from modelsnest import billing
from modelsnest.auth.caller import Caller
from modelsnest.catalog.pricing import CostLine
from modelsnest.crypto import SecretBox
from modelsnest.errors import (
    InvalidRequest,
    MethodNotAllowed,
    ModelsnestError,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    StreamBroken,
    UpstreamError,
    UpstreamTimeout,
    UsageTransactionFailed,
    describe,
    error_code,
)
from modelsnest.gateway.service import Gateway
from modelsnest.money import usd_str
from modelsnest.store import products as product_store
from modelsnest.store.builtins import BUILTINS, BuiltinRequest, Fetch
from modelsnest.store.network import Clients, extensions, fetcher, new_client, prepare_upstream, query_suffix
from modelsnest.store.products import ProductCache
from modelsnest.store.safety import (
    Target,
    answer_headers,
    check_path,
    forward_headers,
    path_allowed,
    rewrite_location,
)
from modelsnest.store.stats import ProductSales, product_sales
from modelsnest.store.tester import probe_product
from modelsnest.store.types import MB, LiveProduct, ProbeResult, ProductSpec, ProductView, call_cost_nanos

log = logging.getLogger(__name__)

ENDPOINT = "/api/v1/store"
PROVIDER_NAME = "api-store"


@dataclass(frozen=True)
class StoreRequest:
    """A store call as the HTTP edge read it (nothing of the body consumed yet)."""

    slug: str
    raw_path: str  # below /api/v1/store/{slug}/, still percent-encoded
    method: str
    query_string: str  # raw, without '?'
    headers: Sequence[tuple[str, str]]
    body: AsyncIterator[bytes]
    content_length: int | None
    store_base: str  # "/api/v1/store/{slug}/", to rewrite same-product redirects


@dataclass
class StoreAnswer:
    status: int
    headers: list[tuple[str, str]]
    chunks: AsyncIterator[bytes]
    media_type: str | None = None


@dataclass
class _Admitted:
    caller: Caller
    product: ProductView
    request_id: str
    method: str
    path: str
    started: float
    hold_id: str | None = None
    slot_held: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class _ResponseTooLarge(Exception):
    pass


async def _capped(body: AsyncIterator[bytes], cap: int) -> AsyncIterator[bytes]:
    seen = 0
    async for chunk in body:
        seen += len(chunk)
        if seen > cap:
            raise PayloadTooLarge(f"The request body is larger than this product's {cap} bytes.")
        if chunk:
            yield chunk


async def _read_all(body: AsyncIterator[bytes], cap: int) -> bytes:
    return b"".join([chunk async for chunk in _capped(body, cap)])


class Store:
    """The API Store of one process (built by ``app.build_services``)."""

    def __init__(self, gateway: Gateway, box: SecretBox) -> None:
        self.gateway = gateway
        self.box = box
        self.cache = ProductCache(gateway.sessions, box, gateway.settings.cache_ttl_seconds)
        self._clients = Clients()
        # Built-ins fetch arbitrary public pages: no connection is kept between fetches.
        self._fetch_client = new_client(keepalive=False)

    async def close(self) -> None:
        await self._clients.close()
        await self._fetch_client.aclose()

    # ---- the operators' side (CLI, admin panel) and the dashboard ---------------------------

    async def list_products(
        self, *, active_only: bool = False, category: str | None = None
    ) -> list[ProductView]:
        return await product_store.list_products(
            self.gateway.sessions, active_only=active_only, category=category
        )

    async def get_product(self, slug: str) -> ProductView:
        return await product_store.get_product(self.gateway.sessions, slug)

    async def create_product(self, slug: str, spec: ProductSpec) -> ProductView:
        view = await product_store.create_product(self.gateway.sessions, self.box, slug, spec)
        self.cache.invalidate()
        return view

    async def update_product(self, slug: str, spec: ProductSpec) -> ProductView:
        view = await product_store.update_product(self.gateway.sessions, self.box, slug, spec)
        self.cache.invalidate()
        return view

    async def set_active(self, slug: str, active: bool) -> ProductView:
        view = await product_store.set_active(self.gateway.sessions, slug, active)
        self.cache.invalidate()
        return view

    async def test_product(self, slug: str, *, path: str = "", method: str = "GET") -> ProbeResult:
        """One unbilled call, as the operator checks a product (``store.tester``)."""
        self.cache.invalidate()
        return await probe_product(
            self.gateway.sessions, self.box, slug, path=path, method=method, client=self._fetch_client
        )

    async def sales(
        self, *, since: date | None = None, until: date | None = None, user_id: int | None = None
    ) -> list[ProductSales]:
        """Calls and revenue per product from the daily rollups (``store.stats``)."""
        return await product_sales(self.gateway.sessions, since=since, until=until, user_id=user_id)

    # ---- one call ------------------------------------------------------------------------

    async def call(self, caller: Caller, incoming: StoreRequest, request_id: str) -> StoreAnswer:
        started = time.perf_counter()
        product = await self.cache.get(incoming.slug)
        if product is None:
            raise NotFound(
                f"There is no store product '{incoming.slug}'.", code="PRODUCT_NOT_FOUND", param="slug"
            )
        view = product.view
        if not view.active:
            raise InvalidRequest(
                f"Store product '{view.slug}' is currently unavailable.",
                code="PRODUCT_UNAVAILABLE",
                param="slug",
            )
        if not caller.allows_model(view.model_slug):
            raise PermissionDenied(
                f"This API key may not use '{view.model_slug}'.", code="PRODUCT_NOT_ALLOWED"
            )
        method = incoming.method.upper()
        if method not in view.allowed_methods:
            raise MethodNotAllowed(
                f"'{view.slug}' accepts {', '.join(view.allowed_methods)}, not {method}.", param="method"
            )
        path = check_path(incoming.raw_path)
        if not path_allowed(unquote(path), view.path_patterns):
            raise NotFound(f"'{view.slug}' has no path '/{path}'.", code="PATH_NOT_FOUND", param="path")
        if any(c in incoming.query_string for c in "\r\n\x00#"):
            raise InvalidRequest("The query string contains characters that are not allowed.", param="query")
        if incoming.content_length is not None and incoming.content_length > view.max_request_bytes:
            raise PayloadTooLarge(
                f"The request body is larger than this product's {view.max_request_bytes} bytes."
            )
        if view.handler is not None:
            forward_headers(incoming.headers)  # the same header rules (CR/LF) for built-ins
            body = await _read_all(incoming.body, view.max_request_bytes)
            admitted = await self._admit(caller, view, request_id, method, path, started)
            return await self._builtin(admitted, product, incoming, body)
        url, target, headers = await prepare_upstream(product, path, incoming.query_string, incoming.headers)
        admitted = await self._admit(caller, view, request_id, method, path, started)
        return await self._proxy(admitted, product, incoming, url, target, headers)

    async def _admit(
        self, caller: Caller, view: ProductView, request_id: str, method: str, path: str, started: float
    ) -> _Admitted:
        gateway = self.gateway
        await gateway.limits.check_request(caller.limit_scope, caller.rpm_limit, None)
        if view.rate_limit_per_minute:
            try:
                await gateway.limits.hit(f"store:{view.slug}", caller.limit_scope, view.rate_limit_per_minute)
            except RateLimited as exc:
                raise RateLimited(
                    f"'{view.slug}' allows {view.rate_limit_per_minute} calls per minute per key.",
                    retry_after=exc.retry_after,
                ) from None
        hold_nanos = view.max_cost_nanos
        if caller.spend_limit_reached(hold_nanos):
            raise RateLimited("this API key has reached its spend limit", retry_after=3600)
        await gateway.limits.concurrency.enter(caller.user_id, gateway.settings.user_concurrency_limit)
        admitted = _Admitted(caller, view, request_id, method, path, started, slot_held=True)
        try:
            hold = await gateway.ledger.hold(
                user_id=caller.user_id,
                amount_nanos=hold_nanos,
                idempotency_key=f"hold:{request_id}",
                api_token_id=caller.key_id,
                request_id=request_id,
                ttl_seconds=max(gateway.settings.hold_ttl_seconds, int(view.timeout_seconds) + 60),
                meta={"model": view.model_slug, "endpoint": ENDPOINT, "origin": caller.origin},
            )
        except BaseException:
            await self._free_slot(admitted)
            raise
        admitted.hold_id = hold.hold_id
        return admitted

    async def _free_slot(self, admitted: _Admitted) -> None:
        if admitted.slot_held:
            admitted.slot_held = False
            await self.gateway.limits.concurrency.leave(admitted.caller.user_id)

    def _usage(self, admitted: _Admitted, **fields: Any) -> billing.UsageRecord:
        fields.setdefault("latency_ms", int((time.perf_counter() - admitted.started) * 1000))
        return billing.UsageRecord(
            request_id=admitted.request_id,
            user_id=admitted.caller.user_id,
            api_token_id=admitted.caller.key_id,
            endpoint=ENDPOINT,
            model_slug=admitted.product.model_slug,
            provider_name=PROVIDER_NAME,
            upstream_model=f"{admitted.method} /{admitted.path}"[:200],
            origin=admitted.caller.origin,
            **fields,
        )

    async def _release(self, admitted: _Admitted, exc: BaseException | None, **fields: Any) -> None:
        """Nothing is charged: release the whole hold, with a usage row saying why."""
        if exc is not None:
            message = exc.message if isinstance(exc, ModelsnestError) else type(exc).__name__
            fields.setdefault("http_status", describe(exc).status)
            fields.setdefault("error_code", error_code(exc))
            fields.setdefault("error_message", message[:500])
        fields.setdefault("status", "error")
        try:
            if admitted.hold_id is not None:
                hold_id, admitted.hold_id = admitted.hold_id, None
                await self.gateway.ledger.release(hold_id=hold_id, usage=self._usage(admitted, **fields))
        finally:
            await self._free_slot(admitted)

    async def _settle(self, admitted: _Admitted, returned_bytes: int, http_status: int, **fields: Any) -> int:
        view = admitted.product
        cost = call_cost_nanos(view.price_per_call_nanos, view.price_per_mb_nanos, returned_bytes)
        lines = [CostLine("call", 1, view.price_per_call_nanos, 1, "call", "per_call")]
        if view.price_per_mb_nanos:
            lines.append(
                CostLine(
                    "response_bytes", returned_bytes, view.price_per_mb_nanos, MB, "response_bytes", "per_mb"
                )
            )
        usage = self._usage(
            admitted,
            status=fields.pop("status", "success"),
            http_status=http_status,
            units=returned_bytes,
            unit_type="response_bytes",
            cost_breakdown=[line.as_record() for line in lines],
            meta={"method": admitted.method, "path": admitted.path, "response_bytes": returned_bytes},
            **fields,
        )
        try:
            assert admitted.hold_id is not None
            hold_id, admitted.hold_id = admitted.hold_id, None
            result = await self.gateway.ledger.settle(hold_id=hold_id, cost_nanos=cost, usage=usage)
        finally:
            await self._free_slot(admitted)
        if result.charged_nanos > 0 and self.gateway.on_charged is not None:
            self.gateway.on_charged(admitted.caller.user_id, result.balance_after_nanos)
        return cost

    def _billable(self, view: ProductView, status: int) -> bool:
        if 200 <= status < 300:
            return True
        return view.billing_policy == "any_answer" and status < 500

    # ---- built-in products ----------------------------------------------------------------

    def _fetcher(self, view: ProductView) -> Fetch:
        return fetcher(self._fetch_client, view)

    async def _builtin(
        self, admitted: _Admitted, product: LiveProduct, incoming: StoreRequest, body: bytes
    ) -> StoreAnswer:
        view = product.view
        assert view.handler is not None
        content_type = next((v for k, v in incoming.headers if k.lower() == "content-type"), "")
        request = BuiltinRequest(
            method=admitted.method,
            path=unquote(admitted.path),
            query=parse_qs(incoming.query_string, keep_blank_values=True),
            content_type=content_type.lower(),
            body=body,
            fetch=self._fetcher(view),
        )
        try:
            async with asyncio.timeout(view.timeout_seconds):
                answer = await BUILTINS[view.handler](request)
            if len(answer.body) > view.max_response_bytes:
                raise PayloadTooLarge(
                    "The answer is larger than this product allows.", code="RESPONSE_TOO_LARGE"
                )
        except TimeoutError as exc:
            error = UpstreamTimeout(f"'{view.slug}' took longer than {view.timeout_seconds:g} s")
            await self._release(admitted, error)
            raise error from exc
        except BaseException as exc:
            await self._release(admitted, exc)
            raise
        headers = list(answer.headers.items())
        if self._billable(view, answer.status):
            try:
                cost = await self._settle(admitted, len(answer.body), answer.status)
            except Exception as exc:
                log.error("settlement of %s failed: %r", admitted.request_id, exc)
                raise UsageTransactionFailed(
                    "the usage could not be recorded; you have not been charged"
                ) from exc
            headers.append(("X-Modelsnest-Cost-USD", usd_str(cost)))
        else:
            await self._release(admitted, None, http_status=answer.status, error_code=f"HTTP_{answer.status}")
        return StoreAnswer(answer.status, headers, _once(answer.body), answer.media_type)

    # ---- proxied products -----------------------------------------------------------------

    async def _proxy(
        self,
        admitted: _Admitted,
        product: LiveProduct,
        incoming: StoreRequest,
        url: str,
        target: Target,
        headers: list[tuple[str, str]],
    ) -> StoreAnswer:
        view = product.view
        if incoming.content_length is not None:
            headers.append(("Content-Length", str(incoming.content_length)))
        sends_body = incoming.content_length not in (None, 0) or any(
            k.lower() == "transfer-encoding" for k, _ in incoming.headers
        )
        parts = urlsplit(url)
        http = self._clients.for_host(target.host)
        request = http.build_request(
            admitted.method,
            target.url(parts.path + query_suffix(parts.query)),
            headers=headers,
            content=_capped(incoming.body, view.max_request_bytes) if sends_body else None,
            extensions=extensions(target, view.timeout_seconds),
        )
        deadline = asyncio.get_running_loop().time() + view.timeout_seconds
        try:
            async with asyncio.timeout_at(deadline):
                response = await http.send(request, stream=True)
        except PayloadTooLarge as exc:
            await self._release(admitted, exc)
            raise
        except (TimeoutError, httpx.TimeoutException) as exc:
            timed_out = UpstreamTimeout(f"'{view.slug}' did not answer within {view.timeout_seconds:g} s")
            await self._release(admitted, timed_out)
            raise timed_out from exc
        except httpx.HTTPError as exc:
            error = UpstreamError(f"'{view.slug}' upstream failed: {type(exc).__name__}")
            await self._release(admitted, error)
            raise error from exc
        except BaseException as exc:
            await self._release(admitted, exc)
            raise
        status = response.status_code
        try:
            if status >= 500:
                raise UpstreamError(f"'{view.slug}' upstream answered HTTP {status}")
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > view.max_response_bytes:
                raise PayloadTooLarge(
                    f"The answer ({declared} bytes) is larger than this product's {view.max_response_bytes} bytes.",
                    code="RESPONSE_TOO_LARGE",
                )
        except BaseException as exc:
            await response.aclose()
            await self._release(admitted, exc)
            raise
        out_headers = answer_headers(response.headers.multi_items())
        if declared is not None and declared.isdigit():
            out_headers.append(("Content-Length", declared))
        location = response.headers.get("location")
        if location is not None:
            rewritten = rewrite_location(location, url, view.upstream_base_url or "", incoming.store_base)
            if rewritten is not None:
                out_headers.append(("Location", rewritten))
        billable = self._billable(view, status)
        if not billable:
            await self._release(admitted, None, http_status=status, error_code=f"HTTP_{status}")
        elif view.price_per_mb_nanos == 0:
            out_headers.append(("X-Modelsnest-Cost-USD", usd_str(view.price_per_call_nanos)))
        return StoreAnswer(status, out_headers, self._relay(admitted, response, billable, deadline))

    async def _relay(
        self, admitted: _Admitted, response: httpx.Response, billable: bool, deadline: float
    ) -> AsyncIterator[bytes]:
        """Stream the upstream's bytes as they come; settle on what was returned."""
        view = admitted.product
        sent = 0
        outcome = "disconnected"  # until the loop ends one way or another
        failure: BaseException | None = None
        try:
            async with asyncio.timeout_at(deadline):
                async for chunk in response.aiter_raw():
                    if sent + len(chunk) > view.max_response_bytes:
                        raise _ResponseTooLarge()
                    sent += len(chunk)
                    yield chunk
            outcome = "complete"
        except _ResponseTooLarge:
            outcome = "failed"
            failure = PayloadTooLarge(
                f"The answer is larger than this product's {view.max_response_bytes} bytes.",
                code="RESPONSE_TOO_LARGE",
            )
            raise StreamBroken("the answer was cut at the product's size cap") from None
        except (TimeoutError, httpx.TimeoutException):
            outcome = "failed"
            failure = UpstreamTimeout(f"'{view.slug}' did not finish within {view.timeout_seconds:g} s")
            raise StreamBroken("the upstream did not finish in time") from None
        except httpx.HTTPError as exc:
            outcome = "failed"
            failure = StreamBroken(f"'{view.slug}' upstream broke off: {type(exc).__name__}")
            raise failure from None
        finally:
            await response.aclose()
            if billable:
                work = self._end(admitted, outcome, failure, sent, response.status_code)
                if outcome == "disconnected":
                    self.gateway.spawn(work)  # we may be cancelled: finish outside this task
                else:
                    await work

    async def _end(
        self, admitted: _Admitted, outcome: str, failure: BaseException | None, sent: int, status: int
    ) -> None:
        try:
            if outcome == "failed":
                await self._release(admitted, failure)
            else:
                await self._settle(
                    admitted,
                    sent,
                    status,
                    status="success" if outcome == "complete" else "cancelled",
                    cancelled=outcome != "complete",
                    streamed=True,
                )
        except Exception:
            log.exception("store call %s could not be settled", admitted.request_id)


async def _once(body: bytes) -> AsyncIterator[bytes]:
    yield body
