"""Pydantic wire models of ``/api/v1``, one module per area, and each operation's OpenAPI
declaration (``responses`` and ``openapi_extra``: body, parameters, security), passed to
FastAPI where the route is declared. They describe what the gateway accepts and answers; they
never parse a request or build an answer (``api/openapi.py`` assembles the document)."""
