"""Text-to-speech: characters are counted here from the text (Unicode code points); a client's
``characters`` field is never read. ``/audio/speech`` returns the audio bytes as OpenAI does;
``/text-to-speech`` returns a JSON acknowledgment with the billing and the audio."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any

from modelsnest.auth.key_verifier import ApiKeyPrincipal
from modelsnest.catalog.pricing import require_price, unit_cost
from modelsnest.errors import InvalidRequest
from modelsnest.exact_json import dumps, money
from modelsnest.gateway.admission import (
    admit,
    call_routes,
    finish_served,
    resolve_model,
)
from modelsnest.gateway.chat_request import parse_json_object, require_model
from modelsnest.gateway.receipts import unit_billing
from modelsnest.gateway.service import Gateway
from modelsnest.money import usd_str
from modelsnest.providers.media_types import SpeechRequest, SpeechResult

ENDPOINT = "speech"
MAX_CHARACTERS = 4096
FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
DEFAULT_VOICE = "alloy"


@dataclass
class Speech:
    audio: bytes
    content_type: str
    characters: int
    cost_nanos: int
    billing: dict[str, Any]
    provider: str
    upstream_model: str
    headers: dict[str, str]


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


async def synthesize(
    gateway: Gateway, principal: ApiKeyPrincipal, raw: bytes, request_id: str, *, text_field: str = "input"
) -> Speech:
    started = time.perf_counter()
    body = parse_json_object(raw)
    model = await resolve_model(gateway, principal, require_model(body), ENDPOINT)
    price = require_price(model)
    request = _speech_request(body, text_field)
    characters = len(request.text)
    cost = unit_cost(price, characters)
    admission = await admit(
        gateway, principal, model, price, request_id=request_id, hold_nanos=cost, endpoint=ENDPOINT
    )

    async def call(route: Any) -> SpeechResult:
        result: SpeechResult = await gateway.pool.get(route.provider).speech(request, route.upstream_model)
        return result

    result, served = await call_routes(gateway, admission, ENDPOINT, started, call)
    await finish_served(
        gateway,
        admission,
        served,
        ENDPOINT,
        started,
        cost_nanos=cost,
        units=characters,
        unit_type="character",
    )
    headers = admission.limit_state.headers()
    headers.update(
        {
            "X-Modelsnest-Provider": served.provider_name,
            "X-Modelsnest-Cost-USD": usd_str(cost),
            "X-Modelsnest-Characters": str(characters),
        }
    )
    return Speech(
        audio=result.audio,
        content_type=result.content_type,
        characters=characters,
        cost_nanos=cost,
        billing=unit_billing(model, price, cost, characters, "character"),
        provider=served.provider_name,
        upstream_model=served.upstream_model,
        headers=headers,
    )


async def text_to_speech_ack(
    gateway: Gateway, principal: ApiKeyPrincipal, raw: bytes, request_id: str, public_base: str
) -> tuple[bytes, dict[str, str]]:
    """The seed's ``POST /text-to-speech``: ``{model, text}`` in, a JSON acknowledgment out."""
    speech = await synthesize(gateway, principal, raw, request_id, text_field="text")
    stored = await gateway.media.save(principal.user_id, speech.audio, speech.content_type, "audio")
    body = {
        "object": "text_to_speech",
        "id": request_id,
        "status": "succeeded",
        "model": speech.upstream_model,
        "characters": speech.characters,
        "audio": {
            "url": f"{public_base}/files/{stored.id}",
            "content_type": speech.content_type,
            "expires_at": int(stored.expires_at.timestamp()),
            "base64": base64.b64encode(speech.audio).decode(),
        },
        "usage": {"characters": speech.characters, "cost": money(speech.cost_nanos)},
        "billing": speech.billing,
    }
    return dumps(body), speech.headers
