"""Text-to-speech: characters are counted here from the text (Unicode code points); a client's
``characters`` field is never read. ``/audio/speech`` returns the audio bytes as OpenAI does;
``/text-to-speech`` returns a JSON acknowledgment with the billing and the audio."""

from __future__ import annotations

import base64
from typing import Any

from modelsnest.catalog.pricing import unit_cost
from modelsnest.errors import InvalidRequest
from modelsnest.exact_json import dumps
from modelsnest.gateway.chat_request import parse_json_object, require_model
from modelsnest.gateway.costs import unit_costing
from modelsnest.gateway.fallback import Served
from modelsnest.gateway.pipeline import Bill, Call, Incoming, Modality, Reply
from modelsnest.gateway.receipts import add_cost, unit_billing
from modelsnest.providers.media_types import SpeechRequest, SpeechResult
from modelsnest.providers.protocol import Provider

MAX_CHARACTERS = 4096
FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
DEFAULT_VOICE = "alloy"


def _speech_request(body: dict[str, Any], text_field: str) -> SpeechRequest:
    text = body.get(text_field)
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest(f"{text_field} is required and must be non-empty text", param=text_field)
    if len(text) > MAX_CHARACTERS:
        raise InvalidRequest(f"{text_field} may be at most {MAX_CHARACTERS} characters", param=text_field)
    voice = body.get("voice", DEFAULT_VOICE)
    if not isinstance(voice, str) or not voice.strip():
        raise InvalidRequest("voice must be a non-empty string", param="voice")
    fmt = body.get("response_format", "mp3")
    if fmt not in FORMATS:
        raise InvalidRequest(f"response_format must be one of {', '.join(FORMATS)}", param="response_format")
    speed = body.get("speed")
    if speed is not None and (
        isinstance(speed, bool) or not isinstance(speed, (int, float)) or not 0.25 <= speed <= 4.0
    ):
        raise InvalidRequest("speed must be a number from 0.25 to 4.0", param="speed")
    known = {"model", text_field, "voice", "response_format", "speed", "characters"}
    return SpeechRequest(
        text=text,
        voice=voice,
        response_format=fmt,
        speed=speed,
        extra={k: v for k, v in body.items() if k not in known},
    )


class SpeechModality(Modality[SpeechRequest, SpeechResult]):
    """``/audio/speech`` (``input`` in, the audio bytes out, as OpenAI does) or, with
    ``acknowledge``, the seed's ``/text-to-speech`` (``text`` in, a JSON acknowledgment with
    the billing, a URL and the audio in base64 out)."""

    endpoint = "speech"

    def __init__(self, *, text_field: str = "input", acknowledge: bool = False) -> None:
        self.text_field = text_field
        self.acknowledge = acknowledge

    def parse(self, incoming: Incoming) -> tuple[str, SpeechRequest]:
        body = parse_json_object(incoming.body)
        slug = require_model(body)
        return slug, _speech_request(body, self.text_field)

    async def hold(self, call: Call, request: SpeechRequest) -> int:
        return unit_cost(call.price, len(request.text))

    async def invoke(self, adapter: Provider, request: SpeechRequest, upstream_model: str) -> SpeechResult:
        return await adapter.speech(request, upstream_model)

    def bill(self, call: Call, request: SpeechRequest, result: SpeechResult) -> Bill:
        # Characters are counted here from the text; a client's ``characters`` is never read.
        characters = len(request.text)
        costing, meter = unit_costing(call.price, characters, "characters")
        return Bill(
            costing.cost_nanos,
            usage={"units": characters, "unit_type": "character"},
            headers={"X-Modelsnest-Characters": str(characters)},
            costing=costing,
            meter=meter,
        )

    async def answer(
        self, call: Call, request: SpeechRequest, result: SpeechResult, bill: Bill, served: Served
    ) -> Reply:
        if not self.acknowledge:
            return Reply(result.audio, media_type=result.content_type)
        characters = len(request.text)
        stored = await call.gateway.media.save(
            call.caller.user_id, result.audio, result.content_type, "audio"
        )
        body = {
            "object": "text_to_speech",
            "id": call.request_id,
            "status": "succeeded",
            "model": served.upstream_model,
            "characters": characters,
            "audio": {
                "url": f"{call.public_base}/files/{stored.id}",
                "content_type": result.content_type,
                "expires_at": int(stored.expires_at.timestamp()),
                "base64": base64.b64encode(result.audio).decode(),
            },
            "usage": add_cost({"characters": characters}, bill.cost_nanos, bill.costing),
            "billing": unit_billing(
                call.model, call.price, bill.cost_nanos, characters, "character", bill.costing
            ),
        }
        return Reply(dumps(body))


SPEECH = SpeechModality()
TEXT_TO_SPEECH = SpeechModality(text_field="text", acknowledge=True)
