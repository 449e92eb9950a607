"""Per-endpoint documentation templates: quick-start steps, parameter tables and code samples.

They are Jinja2 templates, rendered in two passes so 70 models share six templates:

1. at seed time, ``docs.build_docs`` fills one model's specifics (``slug``, ``name``,
   ``prompt``, ``sizes``, ``voices`` … see ``docs._values``) and stores the result in the docs
   tables, where operators may edit it;
2. at request time, ``docs_render.model_docs`` fills what varies per deployment and price:
   ``{{ base_url }}``, ``{{ site_url }}``, ``{{ price_text }}`` and the response example's
   ``{{ cost(…) }}`` / ``{{ billing(…) }}`` (see ``docs_render.DOCS_VARIABLES``).

Jinja's ``{{ … }}`` leaves the JSON, Python and JavaScript of the samples free of escaping.
An unknown placeholder is an error in both passes (``StrictUndefined``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

KEY_ENV: Final = "MODELSNEST_API_KEY"


@dataclass(frozen=True, slots=True)
class ParamTemplate:
    """One row of a parameter table. ``when`` names a capability or option that must be set
    for the row to appear; ``required`` is a bool or such a condition name."""

    name: str
    type: str
    required: bool | str
    description: str
    default: str | None = None
    when: str | None = None


@dataclass(frozen=True, slots=True)
class EndpointTemplate:
    method: str
    path: str
    status: int
    steps: tuple[tuple[str, str], ...]
    parameters: tuple[ParamTemplate, ...]
    curl: str
    python: str
    javascript: str


_KEY_STEP = (
    "Create an API key",
    f"In the dashboard open API keys and create a key (it starts with ptr_). Export it as {KEY_ENV}; "
    "requests are billed from your prepaid credits.",
)
_SDK_STEP = (
    "Install the OpenAI SDK",
    "Run pip install openai (Python) or npm install openai (JavaScript) and set the base URL to {{ base_url }}. "
    "Nothing else changes: the official SDKs work as they are.",
)
_COST_STEP = (
    "Check the cost",
    "Every successful response carries usage.cost and a billing object with the exact charge in USD. "
    "{{ name }} costs {{ price_text }}.",
)

CHAT: Final = EndpointTemplate(
    method="POST",
    path="/api/v1/chat/completions",
    status=200,
    steps=(
        _KEY_STEP,
        _SDK_STEP,
        (
            "Send a chat completion",
            'Call POST /api/v1/chat/completions with "model": "{{ slug }}" and a list of messages. '
            "Set max_tokens to cap the length, and with it the most a request can cost.",
        ),
        (
            "Stream the answer",
            'Set "stream": true to receive Server-Sent Events exactly as OpenAI sends them; add '
            '"stream_options": {"include_usage": true} to get a final chunk with usage and cost.',
        ),
        _COST_STEP,
    ),
    parameters=(
        ParamTemplate("model", "string", True, 'Model id: "{{ slug }}".'),
        ParamTemplate(
            "messages",
            "array",
            True,
            "The conversation: objects with role (system, developer, user, assistant, tool) and content.",
        ),
        ParamTemplate(
            "max_tokens",
            "integer",
            False,
            "Most tokens to generate (up to {{ max_output }}).",
            "{{ max_output }}",
        ),
        ParamTemplate("temperature", "number", False, "Sampling temperature, 0 to 2.", "1"),
        ParamTemplate("top_p", "number", False, "Nucleus sampling probability mass.", "1"),
        ParamTemplate(
            "stream", "boolean", False, "Stream the answer as Server-Sent Events.", "false", when="streaming"
        ),
        ParamTemplate(
            "stream_options",
            "object",
            False,
            '{"include_usage": true} adds a final chunk with usage and cost.',
            None,
            when="streaming",
        ),
        ParamTemplate("stop", "string | array", False, "Up to 4 sequences where generation stops.", "null"),
        ParamTemplate(
            "tools", "array", False, "Functions the model may call (JSON Schema parameters).", None, "tools"
        ),
        ParamTemplate(
            "tool_choice",
            "string | object",
            False,
            "auto, none, required or a named function.",
            "auto",
            "tools",
        ),
        ParamTemplate(
            "response_format",
            "object",
            False,
            '{"type": "json_object"} or a JSON schema for structured output.',
            '{"type": "text"}',
            "json_mode",
        ),
        ParamTemplate(
            "reasoning_effort",
            "string",
            False,
            "low, medium or high thinking effort.",
            "medium",
            "reasoning_effort",
        ),
        ParamTemplate("seed", "integer", False, "Best-effort deterministic sampling.", "null"),
        ParamTemplate("user", "string", False, "Your end user's id, for abuse monitoring.", "null"),
    ),
    curl="""curl {{ base_url }}/chat/completions \\
  -H "Authorization: Bearer $MODELSNEST_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{
    "model": "{{ slug }}",
    "messages": [
      {"role": "system", "content": "You are a concise assistant."},
      {"role": "user", "content": {{ user_content }}}
    ],
    "max_tokens": {{ example_max_tokens }}
  }'""",
    python="""import os

from openai import OpenAI

client = OpenAI(base_url="{{ base_url }}", api_key=os.environ["MODELSNEST_API_KEY"])

response = client.chat.completions.create(
    model="{{ slug }}",
    messages=[
        {"role": "system", "content": "You are a concise assistant."},
        {"role": "user", "content": {{ user_content }}},
    ],
    max_tokens={{ example_max_tokens }},
)
print(response.choices[0].message.content)
print("cost (USD):", response.to_dict()["billing"]["cost_usd"])""",
    javascript="""import OpenAI from "openai";

const client = new OpenAI({ baseURL: "{{ base_url }}", apiKey: process.env.MODELSNEST_API_KEY });

const completion = await client.chat.completions.create({
  model: "{{ slug }}",
  messages: [
    { role: "system", content: "You are a concise assistant." },
    { role: "user", content: {{ user_content }} },
  ],
  max_tokens: {{ example_max_tokens }},
});
console.log(completion.choices[0].message.content);
console.log("cost (USD):", completion.billing.cost_usd);""",
)

EMBEDDINGS: Final = EndpointTemplate(
    method="POST",
    path="/api/v1/embeddings",
    status=200,
    steps=(
        _KEY_STEP,
        _SDK_STEP,
        (
            "Embed your texts",
            'Call POST /api/v1/embeddings with "model": "{{ slug }}" and one string or a list of strings as '
            "input. Each input yields one vector ({{ dimensions }} floats by default), in input order.",
        ),
        (
            "Store and search",
            "Save the vectors in your vector database and compare them with cosine similarity. Embed "
            "queries with the same model as the documents.",
        ),
        _COST_STEP,
    ),
    parameters=(
        ParamTemplate("model", "string", True, 'Model id: "{{ slug }}".'),
        ParamTemplate(
            "input",
            "string | array",
            True,
            "Text or list of texts to embed (each up to {{ context_length }} tokens).",
        ),
        ParamTemplate("encoding_format", "string", False, "float or base64.", "float"),
        ParamTemplate(
            "dimensions",
            "integer",
            False,
            "Shorten the vectors to this many dimensions.",
            "{{ dimensions }}",
            "dimensions",
        ),
        ParamTemplate("user", "string", False, "Your end user's id, for abuse monitoring.", "null"),
    ),
    curl="""curl {{ base_url }}/embeddings \\
  -H "Authorization: Bearer $MODELSNEST_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{
    "model": "{{ slug }}",
    "input": ["The food was delicious.", "The service was slow."]{{ dimensions_line }}
  }'""",
    python="""import os

from openai import OpenAI

client = OpenAI(base_url="{{ base_url }}", api_key=os.environ["MODELSNEST_API_KEY"])

result = client.embeddings.create(
    model="{{ slug }}",
    input=["The food was delicious.", "The service was slow."],{{ dimensions_arg_py }}
)
vectors = [item.embedding for item in result.data]
print(len(vectors), "vectors of", len(vectors[0]), "dimensions")""",
    javascript="""import OpenAI from "openai";

const client = new OpenAI({ baseURL: "{{ base_url }}", apiKey: process.env.MODELSNEST_API_KEY });

const result = await client.embeddings.create({
  model: "{{ slug }}",
  input: ["The food was delicious.", "The service was slow."],{{ dimensions_arg_js }}
});
console.log(result.data.length, "vectors of", result.data[0].embedding.length, "dimensions");""",
)

RERANK: Final = EndpointTemplate(
    method="POST",
    path="/api/v1/rerank",
    status=200,
    steps=(
        _KEY_STEP,
        (
            "Send a query and documents",
            'Call POST /api/v1/rerank with "model": "{{ slug }}", a query and the documents to rank (strings or '
            "objects with a text). It is the Cohere and Jina request shape, so their clients and plain HTTP work.",
        ),
        (
            "Use the ranking",
            "results lists the documents best first: index (into your documents) and relevance_score from 0 "
            "to 1. Keep the top_n best for your prompt; return_documents adds each text.",
        ),
        _COST_STEP,
    ),
    parameters=(
        ParamTemplate("model", "string", True, 'Model id: "{{ slug }}".'),
        ParamTemplate("query", "string", True, "The search query."),
        ParamTemplate(
            "documents",
            "array",
            True,
            "Up to 1,000 strings or {text} objects (each up to {{ context_length }} tokens with the query).",
        ),
        ParamTemplate("top_n", "integer", False, "Return only the best N results.", "all"),
        ParamTemplate(
            "return_documents", "boolean", False, "Include each document's text in the results.", "false"
        ),
    ),
    curl="""curl {{ base_url }}/rerank \\
  -H "Authorization: Bearer $MODELSNEST_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{
    "model": "{{ slug }}",
    "query": "What is the capital of France?",
    "documents": ["Berlin is the capital of Germany.", "Paris is the capital of France."],
    "top_n": 1
  }'""",
    python="""import os

import httpx

response = httpx.post(
    "{{ base_url }}/rerank",
    headers={"Authorization": f"Bearer {os.environ['MODELSNEST_API_KEY']}"},
    json={
        "model": "{{ slug }}",
        "query": "What is the capital of France?",
        "documents": ["Berlin is the capital of Germany.", "Paris is the capital of France."],
        "top_n": 1,
    },
)
for result in response.json()["results"]:
    print(result["index"], result["relevance_score"])""",
    javascript="""const response = await fetch("{{ base_url }}/rerank", {
  method: "POST",
  headers: {
    Authorization: `Bearer ${process.env.MODELSNEST_API_KEY}`,
    "Content-Type": "application/json",
  },
  body: JSON.stringify({
    model: "{{ slug }}",
    query: "What is the capital of France?",
    documents: ["Berlin is the capital of Germany.", "Paris is the capital of France."],
    top_n: 1,
  }),
});
const { results } = await response.json();
console.log(results);""",
)

IMAGES: Final = EndpointTemplate(
    method="POST",
    path="/api/v1/images/generations",
    status=200,
    steps=(
        _KEY_STEP,
        _SDK_STEP,
        (
            "Describe the image",
            'Call POST /api/v1/images/generations with "model": "{{ slug }}", a prompt, the number of '
            "images n and a size ({{ sizes }}).",
        ),
        (
            "Download the result",
            "Each item in data holds a url to the generated image (or b64_json when you ask for "
            "response_format b64_json). URLs expire, so save images you want to keep.",
        ),
        _COST_STEP,
    ),
    parameters=(
        ParamTemplate("model", "string", True, 'Model id: "{{ slug }}".'),
        ParamTemplate("prompt", "string", True, "What to draw, in natural language."),
        ParamTemplate("n", "integer", False, "{{ n_text }}", "1"),
        ParamTemplate("size", "string", False, "Image size: {{ sizes }}.", "{{ size }}"),
        ParamTemplate("response_format", "string", False, "url or b64_json.", "url"),
        ParamTemplate("style", "string", False, "Visual style: {{ styles }}.", "vivid", "style"),
        ParamTemplate("user", "string", False, "Your end user's id, for abuse monitoring.", "null"),
    ),
    curl="""curl {{ base_url }}/images/generations \\
  -H "Authorization: Bearer $MODELSNEST_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{
    "model": "{{ slug }}",
    "prompt": "{{ prompt }}",
    "n": 1,
    "size": "{{ size }}"
  }'""",
    python="""import os

from openai import OpenAI

client = OpenAI(base_url="{{ base_url }}", api_key=os.environ["MODELSNEST_API_KEY"])

result = client.images.generate(
    model="{{ slug }}",
    prompt="{{ prompt }}",
    n=1,
    size="{{ size }}",
)
print(result.data[0].url)""",
    javascript="""import OpenAI from "openai";

const client = new OpenAI({ baseURL: "{{ base_url }}", apiKey: process.env.MODELSNEST_API_KEY });

const result = await client.images.generate({
  model: "{{ slug }}",
  prompt: "{{ prompt }}",
  n: 1,
  size: "{{ size }}",
});
console.log(result.data[0].url);""",
)

TRANSCRIPTION: Final = EndpointTemplate(
    method="POST",
    path="/api/v1/audio/transcriptions",
    status=200,
    steps=(
        _KEY_STEP,
        _SDK_STEP,
        (
            "Upload the audio",
            "Send POST /api/v1/audio/transcriptions as multipart/form-data with the file and "
            "model={{ slug }}. Accepted: flac, m4a, mp3, mp4, mpeg, mpga, ogg, wav and webm, up to 25 MB.",
        ),
        (
            "Pick an output format",
            "response_format is one of {{ formats }}. Give language (ISO-639-1) when you know it for "
            "better accuracy and latency.",
        ),
        (
            "Check the cost",
            "We measure the duration from the file itself and bill {{ price_text }}: usage.seconds and "
            "usage.cost in the response show exactly what you paid.",
        ),
    ),
    parameters=(
        ParamTemplate("file", "file", True, "The audio file (multipart field), up to 25 MB."),
        ParamTemplate("model", "string", True, 'Model id: "{{ slug }}".'),
        ParamTemplate("language", "string", False, "Spoken language as ISO-639-1 (en, de, ja …).", "auto"),
        ParamTemplate("prompt", "string", False, "Text to guide spelling of names and terms.", "null"),
        ParamTemplate("response_format", "string", False, "Output format: {{ formats }}.", "json"),
        ParamTemplate("temperature", "number", False, "Sampling temperature, 0 to 1.", "0"),
        ParamTemplate(
            "timestamp_granularities[]",
            "array",
            False,
            "word and/or segment timestamps (needs verbose_json).",
            "segment",
            "timestamps",
        ),
    ),
    curl="""curl {{ base_url }}/audio/transcriptions \\
  -H "Authorization: Bearer $MODELSNEST_API_KEY" \\
  -F file=@meeting.mp3 \\
  -F model={{ slug }} \\
  -F response_format=json""",
    python="""import os

from openai import OpenAI

client = OpenAI(base_url="{{ base_url }}", api_key=os.environ["MODELSNEST_API_KEY"])

with open("meeting.mp3", "rb") as audio:
    transcript = client.audio.transcriptions.create(model="{{ slug }}", file=audio)
print(transcript.text)""",
    javascript="""import fs from "node:fs";
import OpenAI from "openai";

const client = new OpenAI({ baseURL: "{{ base_url }}", apiKey: process.env.MODELSNEST_API_KEY });

const transcript = await client.audio.transcriptions.create({
  model: "{{ slug }}",
  file: fs.createReadStream("meeting.mp3"),
});
console.log(transcript.text);""",
)

SPEECH: Final = EndpointTemplate(
    method="POST",
    path="/api/v1/audio/speech",
    status=200,
    steps=(
        _KEY_STEP,
        _SDK_STEP,
        (
            "Choose a voice",
            "Pick one of the voices {{ voices }} (the examples use {{ voice }}). Text may be up to "
            "{{ max_characters }} characters per request.",
        ),
        (
            "Generate the audio",
            'Call POST /api/v1/audio/speech with "model": "{{ slug }}", the input text and the voice. '
            "The response body is the audio file ({{ formats }}); stream it to disk or to a player.",
        ),
        (
            "Check the cost",
            "We count the characters of input ourselves and bill {{ price_text }}. The X-Request-Id "
            "header identifies the call; GET /api/v1/generation?id=<that id> returns its usage and billing.",
        ),
    ),
    parameters=(
        ParamTemplate("model", "string", True, 'Model id: "{{ slug }}".'),
        ParamTemplate("input", "string", True, "The text to speak, up to {{ max_characters }} characters."),
        ParamTemplate("voice", "string", True, "Voice id: {{ voices }}.", "{{ voice }}"),
        ParamTemplate("response_format", "string", False, "Audio format: {{ formats }}.", "mp3"),
        ParamTemplate("speed", "number", False, "Playback speed, 0.25 to 4.0.", "1.0", "speed"),
    ),
    curl="""curl {{ base_url }}/audio/speech \\
  -H "Authorization: Bearer $MODELSNEST_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{
    "model": "{{ slug }}",
    "input": "{{ text }}",
    "voice": "{{ voice }}",
    "response_format": "mp3"
  }' \\
  --output speech.mp3""",
    python="""import os

from openai import OpenAI

client = OpenAI(base_url="{{ base_url }}", api_key=os.environ["MODELSNEST_API_KEY"])

with client.audio.speech.with_streaming_response.create(
    model="{{ slug }}",
    voice="{{ voice }}",
    input="{{ text }}",
    response_format="mp3",
) as response:
    response.stream_to_file("speech.mp3")""",
    javascript="""import fs from "node:fs";
import OpenAI from "openai";

const client = new OpenAI({ baseURL: "{{ base_url }}", apiKey: process.env.MODELSNEST_API_KEY });

const audio = await client.audio.speech.create({
  model: "{{ slug }}",
  voice: "{{ voice }}",
  input: "{{ text }}",
  response_format: "mp3",
});
fs.writeFileSync("speech.mp3", Buffer.from(await audio.arrayBuffer()));""",
)

VIDEO: Final = EndpointTemplate(
    method="POST",
    path="/api/v1/video/generations",
    status=202,
    steps=(
        _KEY_STEP,
        (
            "Submit a generation job",
            'POST /api/v1/video/generations with "model": "{{ slug }}", a prompt, a duration '
            "({{ durations }} seconds) and an aspect ratio ({{ aspect_ratios }}). {{ image_step }}",
        ),
        (
            "Poll until it finishes",
            "The call answers 202 with a job id right away. GET /api/v1/video/generations/{id} every few "
            "seconds until status is succeeded (then video_url is set) or failed.",
        ),
        (
            "Check the cost",
            "The requested duration is reserved when the job is accepted and charged at {{ price_text }} when "
            "it succeeds; a failed job is not charged.",
        ),
    ),
    parameters=(
        ParamTemplate("model", "string", True, 'Model id: "{{ slug }}".'),
        ParamTemplate("prompt", "string", True, "The scene, subject motion and camera movement to generate."),
        ParamTemplate(
            "duration", "integer", False, "Clip length in seconds: {{ durations }}.", "{{ duration }}"
        ),
        ParamTemplate(
            "aspect_ratio", "string", False, "Aspect ratio: {{ aspect_ratios }}.", "{{ aspect_ratio }}"
        ),
        ParamTemplate(
            "image_url",
            "string",
            "image_required",
            "First frame to animate (https URL or data URL).",
            None,
            "image_allowed",
        ),
        ParamTemplate("seed", "integer", False, "Seed for reproducible results.", "null"),
    ),
    curl="""curl {{ base_url }}/video/generations \\
  -H "Authorization: Bearer $MODELSNEST_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{
    "model": "{{ slug }}",
    "prompt": "{{ prompt }}",
    "duration": {{ duration }},
    "aspect_ratio": "{{ aspect_ratio }}"{{ image_line }}
  }'

# then poll the job:
curl {{ base_url }}/video/generations/vid_3m8KxQ2pL9wR \\
  -H "Authorization: Bearer $MODELSNEST_API_KEY"
""",
    python="""import os
import time

import httpx

BASE_URL = "{{ base_url }}"
headers = {"Authorization": f"Bearer {os.environ['MODELSNEST_API_KEY']}"}

job = httpx.post(
    f"{BASE_URL}/video/generations",
    headers=headers,
    json={
        "model": "{{ slug }}",
        "prompt": "{{ prompt }}",
        "duration": {{ duration }},
        "aspect_ratio": "{{ aspect_ratio }}",{{ image_arg_py }}
    },
).raise_for_status().json()

while job["status"] in ("queued", "running"):
    time.sleep(5)
    job = httpx.get(f"{BASE_URL}/video/generations/{job['id']}", headers=headers).json()
print(job["status"], job.get("video_url"))""",
    javascript="""const BASE_URL = "{{ base_url }}";
const headers = {
  Authorization: `Bearer ${process.env.MODELSNEST_API_KEY}`,
  "Content-Type": "application/json",
};

let job = await (await fetch(`${BASE_URL}/video/generations`, {
  method: "POST",
  headers,
  body: JSON.stringify({
    model: "{{ slug }}",
    prompt: "{{ prompt }}",
    duration: {{ duration }},
    aspect_ratio: "{{ aspect_ratio }}",{{ image_arg_js }}
  }),
})).json();

while (job.status === "queued" || job.status === "running") {
  await new Promise((resolve) => setTimeout(resolve, 5000));
  job = await (await fetch(`${BASE_URL}/video/generations/${job.id}`, { headers })).json();
}
console.log(job.status, job.video_url);""",
)

TEMPLATES: Final = {
    "chat": CHAT,
    "embeddings": EMBEDDINGS,
    "images": IMAGES,
    "transcription": TRANSCRIPTION,
    "speech": SPEECH,
    "video": VIDEO,
    "rerank": RERANK,
}

# Example inputs per endpoint (a model's options may override ``prompt`` and ``text``).
DEFAULT_PROMPTS: Final = {
    "chat": "Explain the difference between a process and a thread in two sentences.",
    "chat_vision": "What is in this image? Answer in one sentence.",
    "images": "A lighthouse on a rocky coast at sunset, golden light, highly detailed",
    "video": "A slow drone shot over a misty pine forest at sunrise, soft light rays",
    "speech": "Welcome to Modelsnest. One API key for every model you need.",
}
EXAMPLE_IMAGE_URL: Final = "https://example.com/photos/harbor.jpg"
EXAMPLE_FRAME_URL: Final = "https://example.com/photos/forest-first-frame.jpg"

__all__ = ["DEFAULT_PROMPTS", "KEY_ENV", "TEMPLATES", "EndpointTemplate", "ParamTemplate"]
