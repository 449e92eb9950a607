"""Fake upstreams: real HTTP servers on 127.0.0.1 speaking the exact wire formats.

* ``tests.fakes.openai_upstream.FakeOpenAIUpstream``       OpenAI chat completions
* ``tests.fakes.anthropic_upstream.FakeAnthropicUpstream`` Anthropic Messages
* ``tests.fakes.server``    Behaviour switch, recording, lifecycle, token accounting
* ``tests.fakes.fixtures``  pytest fixtures (import them into a conftest.py)
"""
