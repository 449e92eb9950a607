"""Provider adapters: a normalized chat request in (OpenAI wire format, plain dicts), a
normalized answer or stream out, with the usage the upstream reported. Adapters know nothing
about users, money or the database; everything they need arrives in a ``ProviderConfig``.

* ``types``            ProviderConfig, Usage, ChatResult, ChatChunk, ChatProvider
* ``errors``           the ProviderError tree (``retryable`` drives route fallback)
* ``registry``         ``build_provider(config)``, ``register(kind, factory)``
* ``http``             pooled aiohttp client, timeouts, error translation, SSE parsing
* ``openai_compat``    any OpenAI-compatible upstream (OpenAI, Novita, DeepSeek, vLLM, …)
* ``anthropic``        Anthropic Messages (translation in ``anthropic_format``)
* ``simulator``        offline deterministic answers (content in ``simulated_content``)
* ``elevenlabs``       placeholder (no chat)
* ``tokens``           the local token estimator
"""
