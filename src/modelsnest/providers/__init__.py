"""Provider adapters: a normalized request in (OpenAI wire format for chat and embeddings, the
dataclasses of ``media_types`` for the rest), a normalized answer, stream or file out, with the
usage the upstream reported. Adapters know nothing about users, money or the database;
everything they need arrives in a ``ProviderConfig``. They return bytes, never upstream URLs.

* ``types``              ProviderConfig, Usage, ChatResult, ChatChunk, ChatProvider
* ``media_types``        the media contract: requests, results, MediaProvider
* ``protocol``           ``Provider`` = ChatProvider + MediaProvider + ``capabilities``
* ``errors``             the ProviderError tree (``retryable`` drives route fallback)
* ``kinds``              ``ProviderKind``: each kind declared once (label, adapter factory,
  default base URL, the environment variable carrying its key, capabilities, key required);
  the five built-ins (``NOVITA``, ``OPENAI``, ``ANTHROPIC``, ``ELEVENLABS``, ``SIMULATOR``)
* ``capabilities``       the capability names (``chat``, ``stream``, ``embeddings`` …)
* ``registry``           ``default_registry`` (kinds by name, plugins from the
  ``modelsnest.providers`` entry points), ``build_provider(config)``, ``register(...)``
* ``http``               pooled aiohttp client, timeouts, SSE parsing, downloads
  (``http_errors``: status/exception translation)
* ``media_base``         capability names, the "unsupported" defaults, sniffing, local counts
* ``openai_compat``      any OpenAI-compatible upstream (OpenAI, DeepSeek, vLLM, …);
  its media endpoints in ``openai_media``
* ``novita``             Novita: OpenAI-compatible + async video tasks (bodies in ``novita_video``)
* ``anthropic``          Anthropic Messages (translation in ``anthropic_format``); chat only
* ``elevenlabs``         ElevenLabs text-to-speech
* ``simulator``          offline deterministic answers (chat content in ``simulated_content``,
  media in ``simulated_media``)
* ``tokens``             the local token estimator
"""
