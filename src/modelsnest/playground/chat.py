"""One playground answer: the question checked, sent through the gateway's pipeline as the
signed-in user (exactly the API's chat path: hold, routes with fallback, billing by what
was delivered), streamed as playground events, then the turn saved with its cost.

Events (the web edge frames them as SSE):

    start  {request_id, conversation_id, model}       with the first chunk
    delta  {text}                                     each piece of the answer, as it comes
    error  {message}                                  the upstream broke off (billed what came)
    done   {status, cost, balance, html, …}           after settlement: the receipt and the
                                                      answer as sanitised HTML

A client that stops (closes the connection) gets no ``done``: the gateway drains or cancels
the upstream and bills what was delivered; ``receipt_for`` reads that bill afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from modelsnest import billing
from modelsnest.auth.caller import Caller
from modelsnest.billing.reports import get_request_usage
from modelsnest.db.engine import SessionFactory
from modelsnest.errors import (
    InsufficientCredits,
    InvalidRequest,
    ModelError,
    ModelsnestError,
    RateLimited,
    public_message,
)
from modelsnest.exact_json import dumps
from modelsnest.gateway import pipeline
from modelsnest.gateway.admission import abort, failure_record
from modelsnest.gateway.chat import CHAT
from modelsnest.gateway.service import Gateway
from modelsnest.gateway.streaming import BilledStream, Outcome, Settled, StreamEvent, StreamSink
from modelsnest.money import format_balance, format_usd
from modelsnest.playground.conversations import get_conversation, save_answer, save_question
from modelsnest.playground.markdown import render_answer
from modelsnest.providers.types import ChatChunk

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 20_000
MAX_SYSTEM_CHARS = 10_000
MAX_TOKENS_LIMIT = 32_000
HISTORY_TURNS = 40  # the last N turns of a conversation go with a new question


@dataclass(frozen=True)
class Ask:
    """A question as the playground form sends it, checked."""

    model: str
    message: str
    system: str | None = None
    temperature: Decimal | None = None
    max_tokens: int | None = None
    conversation_id: int | None = None
    save: bool = True  # compare mode keeps no history


def parse_ask(values: Mapping[str, str]) -> Ask:
    """The form's fields (``model``, ``message``, ``system``, ``temperature``, ``max_tokens``,
    ``conversation_id``, ``mode``) as an ``Ask``; an ``InvalidRequest`` names the bad one."""
    model = values.get("model", "").strip()
    if not model:
        raise InvalidRequest("choose a model", param="model")
    message = values.get("message", "").strip()
    if not message:
        raise InvalidRequest("write a message first", param="message")
    if len(message) > MAX_MESSAGE_CHARS:
        raise InvalidRequest(f"the message is longer than {MAX_MESSAGE_CHARS:,} characters", param="message")
    system = values.get("system", "").strip() or None
    if system is not None and len(system) > MAX_SYSTEM_CHARS:
        raise InvalidRequest(
            f"the system prompt is longer than {MAX_SYSTEM_CHARS:,} characters", param="system"
        )
    temperature: Decimal | None = None
    raw = values.get("temperature", "").strip()
    if raw:
        try:
            temperature = Decimal(raw)
        except InvalidOperation:
            temperature = None
        if temperature is None or not temperature.is_finite() or not Decimal(0) <= temperature <= Decimal(2):
            raise InvalidRequest("temperature must be a number from 0 to 2", param="temperature")
    max_tokens: int | None = None
    raw = values.get("max_tokens", "").strip()
    if raw:
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_TOKENS_LIMIT:
            raise InvalidRequest(
                f"max tokens must be a whole number from 1 to {MAX_TOKENS_LIMIT:,}", param="max_tokens"
            )
        max_tokens = int(raw)
    conversation_id: int | None = None
    raw = values.get("conversation_id", "").strip()
    if raw:
        if not raw.isdigit():
            raise InvalidRequest("there is no such conversation", param="conversation_id")
        conversation_id = int(raw)
    compare = values.get("mode", "") == "compare"
    return Ask(
        model=model,
        message=message,
        system=system,
        temperature=temperature,
        max_tokens=max_tokens,
        conversation_id=None if compare else conversation_id,
        save=not compare,
    )


def friendly_error(exc: ModelsnestError, model: str) -> str:
    """The sentence the page shows for a refused or failed answer."""
    if isinstance(exc, InsufficientCredits):
        return (
            "You do not have enough credits for this answer. Add credits on the billing page, "
            "or lower Max tokens. Nothing was charged."
        )
    if isinstance(exc, ModelError) or exc.code == "MODEL_UNAVAILABLE":
        if exc.code == "MODEL_NOT_FOUND":
            return f"There is no model “{model[:80]}”. Choose one from the list. Nothing was charged."
        return f"The model “{model[:80]}” cannot answer chats right now. Choose another one. Nothing was charged."
    if isinstance(exc, RateLimited):
        return "Too many requests at once. Wait a moment and ask again. Nothing was charged."
    message = public_message(exc)
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


@dataclass(frozen=True)
class Receipt:
    """What one answer cost and what is left, as the page shows it."""

    request_id: str
    status: str
    cost_nanos: int
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int | None
    ttft_ms: int | None
    balance_nanos: int

    def as_event(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "status": self.status,
            "cost_nanos": self.cost_nanos,
            "cost": format_usd(self.cost_nanos),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "latency_ms": self.latency_ms,
            "ttft_ms": self.ttft_ms,
            "balance": format_balance(self.balance_nanos),
            "balance_exact": format_usd(self.balance_nanos),
        }


async def receipt_for(sessions: SessionFactory, *, user_id: int, request_id: str) -> Receipt | None:
    """The bill of one of the user's answers, once settled (None before, or not theirs)."""
    entry = await get_request_usage(sessions, user_id=user_id, request_id=request_id)
    if entry is None:
        return None
    balance = await billing.get_balance(sessions, user_id)
    return Receipt(
        request_id=request_id,
        status=entry.status,
        cost_nanos=entry.cost_nanos,
        prompt_tokens=entry.prompt_tokens,
        completion_tokens=entry.completion_tokens,
        latency_ms=entry.latency_ms,
        ttft_ms=entry.ttft_ms,
        balance_nanos=balance.available_nanos,
    )


@dataclass
class PlaygroundSurface:
    """The playground's events for the gateway's chunks; keeps the text it sent."""

    request_id: str
    conversation_id: int | None
    model: str
    pieces: list[str] = field(default_factory=list)
    started: bool = False

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def chunk_events(self, chunk: ChatChunk) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if not self.started:
            self.started = True
            start = {
                "request_id": self.request_id,
                "conversation_id": self.conversation_id,
                "model": self.model,
            }
            events.append(StreamEvent(start, event="start"))
        for choice in chunk.data.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta")
            piece = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(piece, str) and piece:
                self.pieces.append(piece)
                events.append(StreamEvent({"text": piece}, event="delta"))
        return events

    def tail_events(self, outcome: Outcome, settled: Settled | None) -> list[StreamEvent]:
        if settled is None:
            message = "The usage of this answer could not be recorded; you have not been charged."
            return [StreamEvent({"message": message}, event="error")]
        if outcome.error is not None:
            message = "The provider broke off this answer; you pay only for what was delivered."
            return [StreamEvent({"message": message}, event="error")]
        return []


@dataclass
class PlaygroundStream(BilledStream):
    """The gateway's ``BilledStream`` with the playground's ending: after settlement the
    turn is saved with its bill and a ``done`` event carries the receipt."""

    sessions: SessionFactory | None = None
    user_id: int = 0
    save: bool = True

    @property
    def playground(self) -> PlaygroundSurface:
        surface = self.surface
        assert isinstance(surface, PlaygroundSurface)
        return surface

    async def run(self, sink: StreamSink) -> None:
        await super().run(_Finishing(sink, self))

    async def finish(self) -> list[StreamEvent]:
        """Save the answer and read its receipt; runs in the process's task set, so a
        server cancelling the request does not lose the saved turn."""
        task = self.gateway.tasks.spawn(self._finish())
        try:
            return await asyncio.shield(task)
        except Exception:
            log.exception("the playground could not finish request %s", self.admission.request_id)
            return []

    async def _finish(self) -> list[StreamEvent]:
        assert self.sessions is not None
        surface = self.playground
        receipt = await receipt_for(self.sessions, user_id=self.user_id, request_id=surface.request_id)
        message_id: int | None = None
        if self.save and surface.conversation_id is not None and (surface.text or receipt is not None):
            message_id = await save_answer(
                self.sessions,
                conversation_id=surface.conversation_id,
                content=surface.text,
                model_slug=surface.model,
                request_id=surface.request_id,
                status=receipt.status if receipt is not None else "error",
                cost_nanos=receipt.cost_nanos if receipt is not None else 0,
                latency_ms=receipt.latency_ms if receipt is not None else None,
            )
        if receipt is None:
            return []
        done = {**receipt.as_event(), "html": render_answer(surface.text), "message_id": message_id}
        return [StreamEvent(done, event="done")]


class _Finishing:
    """A sink that appends the playground's ``done`` event to the stream's last write."""

    def __init__(self, sink: StreamSink, stream: PlaygroundStream) -> None:
        self._sink = sink
        self._stream = stream
        self.disconnected = sink.disconnected

    async def send(self, events: Sequence[StreamEvent], *, last: bool = False) -> None:
        if not last:
            await self._sink.send(events)
            return
        done = await self._stream.finish()
        await self._sink.send([*events, *done], last=True)

    async def closed(self) -> None:
        await self._sink.closed()


async def start_answer(
    gateway: Gateway,
    sessions: SessionFactory,
    *,
    user_id: int,
    user_role: str,
    ask: Ask,
    request_id: str,
) -> PlaygroundStream:
    """Admit and open the answer to ``ask`` (raises the gateway's ``ModelsnestError`` when it
    is refused or no provider can start it: nothing is charged then); save the question."""
    history: list[dict[str, str]] = []
    if ask.conversation_id is not None:
        _, messages = await get_conversation(sessions, user_id, ask.conversation_id)
        turns = [m for m in messages if m.content][-HISTORY_TURNS:]
        history = [{"role": m.role, "content": m.content} for m in turns]
    body: dict[str, Any] = {
        "model": ask.model,
        "messages": [
            *([{"role": "system", "content": ask.system}] if ask.system else []),
            *history,
            {"role": "user", "content": ask.message},
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if ask.temperature is not None:
        body["temperature"] = float(ask.temperature)
    if ask.max_tokens is not None:
        body["max_tokens"] = ask.max_tokens
    caller = Caller.signed_in(user_id, user_role, origin="playground")
    answer = await pipeline.serve(gateway, caller, CHAT, pipeline.Incoming(body=dumps(body)), request_id)
    if not isinstance(answer, BilledStream):  # stream: true always opens a stream
        raise InvalidRequest("the model did not stream its answer")
    conversation_id: int | None = None
    if ask.save:
        try:
            conversation_id = await save_question(
                sessions,
                user_id=user_id,
                conversation_id=ask.conversation_id,
                model_slug=ask.model,
                system_prompt=ask.system,
                content=ask.message,
            )
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await answer.stream.aclose()  # type: ignore[attr-defined]
            await abort(
                gateway, answer.admission, failure_record(answer.admission, "chat", exc, answer.started)
            )
            raise
    state = {f.name: getattr(answer, f.name) for f in fields(answer)}
    state["surface"] = PlaygroundSurface(request_id, conversation_id, ask.model)
    return PlaygroundStream(**state, sessions=sessions, user_id=user_id, save=ask.save)
