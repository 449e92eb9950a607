"""The one pipeline every paid request goes through, whatever its modality.

    idempotency claim → parse → model, price → hold → limits, slot, credit hold
      → routes with fallback → bill → answer → settle (usage row + stored answer, one
      transaction) → response headers

A ``Modality`` declares only what differs: how to read its request, how much to hold, how to
call an adapter, what the result costs and how the answer looks. Everything else — admission,
fallback, releasing the hold on any error, the usage row, the ``X-Modelsnest-*`` and
``X-RateLimit-*`` headers, ``Idempotency-Key`` replays — is written once, here.

A modality whose request asks for a stream returns a ``BilledStream`` (``gateway.streaming``)
that the HTTP edge drives; streams are not replayable, so their idempotency claim is freed.
A deferred modality (video) keeps its hold open for a job and answers at once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Generic, TypeVar

from modelsnest import billing
from modelsnest.auth.caller import Caller
from modelsnest.catalog.pricing import Costing, require_price
from modelsnest.catalog.types import ModelInfo, PriceInfo
from modelsnest.errors import ModelError, error_code
from modelsnest.gateway import idempotency
from modelsnest.gateway.admission import (
    Admission,
    abort,
    admit,
    call_routes,
    failure_record,
    finish,
    resolve_model,
    usage_record,
)
from modelsnest.gateway.costs import Meter, cost_fields
from modelsnest.gateway.fallback import Served
from modelsnest.gateway.preferences import Preferences, plan, provider_latency
from modelsnest.gateway.service import Gateway
from modelsnest.money import usd_str
from modelsnest.providers.context import upstream_request_id
from modelsnest.providers.protocol import Provider

Req = TypeVar("Req")
Res = TypeVar("Res")


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str
    content_type: str


@dataclass(frozen=True)
class Incoming:
    """A paid request as the HTTP edge read it: a JSON body, or multipart fields and a file."""

    body: bytes = b""
    fields: Mapping[str, str] | None = None
    upload: Upload | None = None
    public_base: str = ""
    idempotency_key: str | None = None


@dataclass
class Reply:
    body: bytes
    status: int = 200
    media_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Bill:
    """What a result costs (rounded once, in nano-dollars) and what its usage row records.

    ``costing`` is the bill by dimension (``cost_nanos == costing.cost_nanos``); ``meter``
    prices the same usage at any other price, here the serving route's cost price (the
    usage row's upstream cost)."""

    cost_nanos: int
    usage: Mapping[str, Any] = field(default_factory=dict)  # UsageRecord fields
    tokens: int = 0  # counted against the key's tokens-per-minute
    headers: Mapping[str, str] = field(default_factory=dict)
    costing: Costing | None = None
    meter: Meter | None = None


@dataclass(frozen=True)
class Call:
    """One admitted request, as a modality sees it. ``price`` is the price version it was
    admitted with: its hold, its bill and its usage row use it, whatever changes meanwhile."""

    gateway: Gateway
    caller: Caller
    model: ModelInfo
    price: PriceInfo
    request_id: str
    public_base: str
    started: float

    def elapsed_ms(self) -> int:
        return int((time.perf_counter() - self.started) * 1000)


class Modality(Generic[Req, Res]):
    """What one kind of paid request declares; see the module docstring."""

    endpoint: ClassVar[str]
    # The catalog endpoint of the models it serves, when not ``endpoint`` (the APIs built on
    # chat completions: Responses, legacy completions, Messages serve ``chat`` models).
    catalog_endpoint: ClassVar[str | None] = None
    # The request outlives the HTTP call (a job): its concurrency slot is given back at once.
    keeps_slot: ClassVar[bool] = True

    def parse(self, incoming: Incoming) -> tuple[str, Req]:
        """Validate what needs no catalog; return the model slug and the request."""
        raise NotImplementedError

    def preferences(self, request: Req) -> Preferences | None:
        """The request's routing preferences (``models``, ``provider``), if it may carry them."""
        return None

    def fingerprint(self, incoming: Incoming) -> bytes:
        """What an ``Idempotency-Key`` retry must repeat exactly."""
        return incoming.body

    async def hold(self, call: Call, request: Req) -> int:
        """The most this request can cost, in nano-dollars."""
        raise NotImplementedError

    def hold_ttl_seconds(self, gateway: Gateway) -> int | None:
        return None

    def streams(self, request: Req) -> bool:
        return False

    async def invoke(self, adapter: Provider, request: Req, upstream_model: str) -> Res:
        raise NotImplementedError

    def bill(self, call: Call, request: Req, result: Res) -> Bill:
        raise NotImplementedError

    async def answer(self, call: Call, request: Req, result: Res, bill: Bill, served: Served) -> Reply:
        raise NotImplementedError

    async def open_stream(self, call: Call, admission: Admission, request: Req) -> Any:
        """Streaming modalities: call the routes and return a ``BilledStream``."""
        raise NotImplementedError

    async def park(
        self,
        call: Call,
        admission: Admission,
        request: Req,
        result: Res,
        served: Served,
        reply: Reply,
        claim: idempotency.Claim | None,
    ) -> Reply:
        """Deferred modalities: keep the hold for a job instead of settling now."""
        raise NotImplementedError

    @property
    def deferred(self) -> bool:
        return type(self).park is not Modality.park


def served_headers(admission: Admission, served: Served, cost_nanos: int) -> dict[str, str]:
    headers = admission.limit_state.headers()
    headers["X-Modelsnest-Provider"] = served.provider_name
    headers["X-Modelsnest-Upstream-Model"] = served.upstream_model
    headers["X-Modelsnest-Cost-USD"] = usd_str(cost_nanos)
    return headers


async def serve(
    gateway: Gateway, caller: Caller, modality: Modality[Any, Any], incoming: Incoming, request_id: str
) -> Reply | Any:
    """Answer one paid request: a ``Reply``, or a ``BilledStream`` to drive."""
    token = upstream_request_id.set(request_id)  # sent upstream as X-Request-Id
    try:
        return await _serve_once(gateway, caller, modality, incoming, request_id)
    finally:
        upstream_request_id.reset(token)


async def _serve_once(
    gateway: Gateway, caller: Caller, modality: Modality[Any, Any], incoming: Incoming, request_id: str
) -> Reply | Any:
    claim: idempotency.Claim | None = None
    if incoming.idempotency_key is not None and caller.key_id is not None:
        outcome = await idempotency.claim(
            gateway.sessions,
            api_token_id=caller.key_id,
            key=idempotency.validate_key(incoming.idempotency_key),
            body=modality.fingerprint(incoming),
            request_id=request_id,
            ttl_seconds=gateway.settings.idempotency_ttl_seconds,
        )
        if isinstance(outcome, idempotency.Replay):
            return Reply(
                outcome.body,
                outcome.status,
                outcome.media_type,
                {**outcome.headers, "Idempotent-Replayed": "true"},
            )
        claim = outcome
    try:
        answer = await _serve(gateway, caller, modality, incoming, request_id, claim)
    except BaseException:
        if claim is not None:
            await idempotency.abandon(gateway.sessions, claim)
        raise
    if claim is not None and not isinstance(answer, Reply):
        await idempotency.abandon(gateway.sessions, claim)  # a stream cannot be replayed
    return answer


async def _preferred_routes(
    modality: Modality[Any, Any], call: Call, request: Any, prefs: Preferences, hold_nanos: int
) -> tuple[list[Any], int]:
    """The routes of the request's models in the preferred order, and a hold that covers the
    most expensive of them. A fallback model that is unavailable is skipped."""
    candidates = [(call.model, call.price)]
    endpoint = modality.catalog_endpoint or modality.endpoint
    for slug in prefs.models:
        if any(model.slug == slug for model, _ in candidates):
            continue
        try:
            model = await resolve_model(call.gateway, call.caller, slug, endpoint)
        except ModelError as exc:
            if error_code(exc) == "MODEL_UNAVAILABLE":
                continue
            raise
        price = require_price(model)
        candidates.append((model, price))
        hold_nanos = max(hold_nanos, await modality.hold(replace(call, model=model, price=price), request))
    latency = await provider_latency(call.gateway.sessions) if prefs.sort == "latency" else None
    return plan(candidates, prefs, latency), hold_nanos


async def _serve(
    gateway: Gateway,
    caller: Caller,
    modality: Modality[Any, Any],
    incoming: Incoming,
    request_id: str,
    claim: idempotency.Claim | None,
) -> Reply | Any:
    started = time.perf_counter()
    endpoint = modality.endpoint
    slug, request = modality.parse(incoming)
    model = await resolve_model(gateway, caller, slug, modality.catalog_endpoint or endpoint)
    price = require_price(model)
    call = Call(gateway, caller, model, price, request_id, incoming.public_base, started)
    hold_nanos = await modality.hold(call, request)
    routes = None
    prefs = modality.preferences(request)
    if prefs is not None:
        routes, hold_nanos = await _preferred_routes(modality, call, request, prefs, hold_nanos)
    admission = await admit(
        gateway,
        caller,
        model,
        price,
        request_id=request_id,
        hold_nanos=hold_nanos,
        endpoint=endpoint,
        hold_ttl_seconds=modality.hold_ttl_seconds(gateway),
    )
    admission.routes = routes
    if not modality.keeps_slot:
        await admission.free_slot(gateway)
    if modality.streams(request):
        return await modality.open_stream(call, admission, request)

    async def invoke(route: Any) -> Any:
        return await modality.invoke(gateway.pool.get(route.provider), request, route.upstream_model)

    result, served = await call_routes(gateway, admission, endpoint, started, invoke)
    if admission.model is not call.model:  # a fallback model answered
        call = replace(call, model=admission.model, price=admission.price)
    try:
        bill = modality.bill(call, request, result)
        reply = await modality.answer(call, request, result, bill, served)
    except BaseException as exc:
        await abort(gateway, admission, failure_record(admission, endpoint, exc, started))
        raise
    reply.headers = {**served_headers(admission, served, bill.cost_nanos), **bill.headers, **reply.headers}
    if modality.deferred:
        try:
            return await modality.park(call, admission, request, result, served, reply, claim)
        except BaseException as exc:
            await abort(gateway, admission, failure_record(admission, endpoint, exc, started))
            raise
    usage = dict(bill.usage)
    usage.setdefault("latency_ms", call.elapsed_ms())
    usage.update(cost_fields(bill.costing, bill.meter, served))
    stored = (
        billing.StoredReply(claim.record_id, reply.status, reply.body, reply.media_type, dict(reply.headers))
        if claim is not None
        else None
    )
    await finish(
        gateway,
        admission,
        cost_nanos=bill.cost_nanos,
        tokens=bill.tokens,
        usage=usage_record(
            admission,
            endpoint,
            provider_name=served.provider_name,
            upstream_model=served.upstream_model,
            status="success",
            http_status=reply.status,
            **usage,
        ),
        reply=stored,
    )
    return reply
