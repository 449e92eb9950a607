"""The admin panel: operators look after users and credits, the catalog, providers and the
ledger from ``/admin``.

Services (``audit``, ``users``, ``catalog``, ``overview``) hold the logic and never import
FastAPI, Starlette or the web package; ``routes`` are thin page handlers that call them. Every
state-changing action writes exactly one ``admin_audit`` row (``audit.record``), which nothing
ever updates or deletes.
"""
