"""What a fake upstream does and records: the ``Behaviour`` switch, recorded requests, and the
fakes' deterministic token accounting (described in ``tests.fakes.server``). No I/O here."""

from __future__ import annotations

import email.parser
import email.policy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = [
    "DEFAULT_REPLY",
    "Behaviour",
    "FakeToolCall",
    "RecordedFile",
    "RecordedRequest",
    "argument_pieces",
    "fake_prompt_tokens",
    "message_text",
    "parse_multipart",
    "reply_pieces",
    "truncate",
]

DEFAULT_REPLY = "Hello from the fake upstream! It speaks the exact wire format."
_WORD = re.compile(r"\s*\S+|\s+")


@dataclass
class FakeToolCall:
    """A tool call the fake answers with; ``arguments`` dicts are sent as JSON text."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)

    @property
    def arguments_json(self) -> str:
        args = self.arguments
        return args if isinstance(args, str) else orjson.dumps(args).decode()


@dataclass
class Behaviour:
    """What the fake does on the next calls (replace it or ``fake.set(...)`` per test)."""

    reply: str = DEFAULT_REPLY  # the answer text
    tool_calls: list[FakeToolCall] = field(default_factory=list)  # answer with these calls instead
    tool_preamble: str = ""  # text sent before the tool calls
    # Thinking sent before the answer: OpenAI-compatible ``reasoning_content`` (DeepSeek's field),
    # Anthropic a ``thinking`` block with a signature; one completion token per word, like replies.
    reasoning: str = ""
    status: int = 200  # non-2xx: fail with this status ...
    error_body: Any = None  # ... and this body (dict → JSON, str → text); None: the upstream's shape
    fail_times: int | None = None  # fail only the first N calls, then answer normally
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers (Retry-After …)
    headers_delay: float = 0.0  # seconds before the response headers (first-byte timeouts)
    chunk_delay: float = 0.0  # seconds before each stream event
    hang_after: int | None = None  # stream: after K events go silent, connection kept open
    drop_after: int | None = None  # stream: after K events abort the TCP connection
    error_event_after: int | None = None  # stream: after K events send an in-stream error event
    omit_usage: bool = False  # no usage in the answer / stream
    omit_done: bool = False  # OpenAI stream: no "data: [DONE]"
    keepalive: bool = False  # interleave SSE comments (OpenAI) / ping events (Anthropic)
    stop_reason: str | None = None  # override finish_reason / stop_reason
    expected_api_key: str | None = None  # 401 unless the request carries this key
    # -- usage details (OpenAI's convention: parts of the prompt / completion tokens) --------------
    prompt_tokens: int | None = None  # report this many prompt tokens (None: the fakes' own count)
    cached_tokens: int = 0  # prompt tokens reported as read from the prompt cache
    cache_write_tokens: int = 0  # prompt tokens reported as written to the cache ...
    cache_write_1h_tokens: int = 0  # ... of which at the 1-hour TTL (Anthropic)
    audio_input_tokens: int = 0  # prompt tokens reported as audio
    reasoning_tokens: int = 0  # completion tokens reported as reasoning (added to the answer's)
    audio_output_tokens: int = 0  # completion tokens reported as audio (added to the answer's)
    # -- media -------------------------------------------------------------------------------
    embedding_dimensions: int = 8  # vector size when the request sets no ``dimensions``
    image_response: str | None = None  # "url" / "b64_json": answer so whatever was asked
    image_quality: str | None = None  # images: report this ``quality`` (gpt-image models do)
    reject_response_format: bool = False  # images: 400 when ``response_format`` is sent (gpt-image)
    reject_verbose_json: bool = False  # transcriptions: 400 for ``verbose_json`` (gpt-4o-transcribe)
    content_type: str | None = None  # override the Content-Type of binary (audio) answers
    download_status: int = 200  # non-2xx: the hosted files fail with this status
    task_queued_polls: int = 1  # async tasks: polls answered QUEUED ...
    task_processing_polls: int = 2  # ... then PROCESSING ...
    task_fail_reason: str | None = None  # ... then FAILED with this reason (None: SUCCEED)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Behaviour:
        values = dict(data)
        values["tool_calls"] = [FakeToolCall(**call) for call in values.get("tool_calls") or ()]
        return cls(**values)


@dataclass
class RecordedFile:
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: Any
    raw: bytes
    at: float
    peer: tuple[str, int] | None = None  # client address: the same port twice = a reused connection
    query: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)  # multipart text fields
    files: dict[str, RecordedFile] = field(default_factory=dict)  # multipart file fields


def parse_multipart(raw: bytes, content_type: str) -> tuple[dict[str, str], dict[str, RecordedFile]]:
    """(text fields, file fields) of a multipart/form-data body."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    form: dict[str, str] = {}
    files: dict[str, RecordedFile] = {}
    if not message.is_multipart():
        return form, files
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files[str(name)] = RecordedFile(filename, part.get_content_type(), data)
        else:
            form[str(name)] = data.decode("utf-8", "replace")
    return form, files


def message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def fake_prompt_tokens(messages: Any, system: Any = None) -> int:
    """The fakes' prompt token count (see the module docstring)."""
    texts = [message_text(m.get("content")) for m in messages or () if isinstance(m, dict)]
    if system:
        texts.append(message_text(system))
    return 3 + sum(len(text) // 4 + 4 for text in texts)


def reply_pieces(text: str) -> list[str]:
    """How the fakes stream a reply: one piece (and one token) per word (trailing space: one more)."""
    return _WORD.findall(text)


def argument_pieces(arguments: str) -> list[str]:
    """How the fakes stream tool-call arguments: 8 characters per piece (and token)."""
    return [arguments[i : i + 8] for i in range(0, len(arguments), 8)]


def truncate(pieces: list[str], stops: list[str], limit: int | None) -> tuple[list[str], str | None, str]:
    """Apply stop sequences, then a token limit: (pieces, matched stop, "stop"|"length"|"")."""
    text = "".join(pieces)
    hits = [(text.find(s), s) for s in stops if s and s in text]
    matched = None
    if hits:
        cut, matched = min(hits)
        pieces = reply_pieces(text[:cut])
    if limit is not None and len(pieces) > limit:
        return pieces[:limit], None, "length"
    return pieces, matched, "stop" if matched else ""
