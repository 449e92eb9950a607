"""Fake upstreams: real HTTP servers on 127.0.0.1 speaking the exact wire formats.

* ``tests.fakes.openai_upstream.FakeOpenAIUpstream``       OpenAI chat completions + media
  (embeddings, images, transcriptions, speech: ``openai_media_upstream``)
* ``tests.fakes.novita_upstream.FakeNovitaUpstream``       Novita: the same under /v3/openai
  + the async task API (video)
* ``tests.fakes.anthropic_upstream.FakeAnthropicUpstream`` Anthropic Messages
* ``tests.fakes.elevenlabs_upstream.FakeElevenLabsUpstream`` ElevenLabs text-to-speech
* ``tests.fakes.server``    lifecycle, hosted files, control endpoints
* ``tests.fakes.behaviour`` Behaviour switch, recording, token accounting
* ``tests.fakes.fixtures``  pytest fixtures (import them into a conftest.py)
"""
