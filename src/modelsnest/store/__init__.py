"""The API Store: any HTTP API an operator lists (or one the platform serves itself), sold per
call through the same ``ptr_`` keys and credits as the models.

* ``Store`` (``store.service``): one call, from the product's rules to the settled charge, and
  what the dashboard, the admin panel and the CLI call: ``list_products``, ``get_product``,
  ``create_product``, ``update_product``, ``set_active``, ``test_product``.
* ``store.products``: the product rows and the in-memory copy the hot path reads.
* ``store.safety``: the path, header and network rules (no SSRF, no escaping the base).
* ``store.builtins``: the products served in-process (QR codes, HTML to Markdown, PDF to text).
* ``store.seed``: the built-in products with their prices and docs (``modelsnest seed``).
"""

from modelsnest.store.service import Store, StoreAnswer, StoreRequest
from modelsnest.store.types import ProbeResult, ProductSpec, ProductView

__all__ = ["ProductSpec", "ProductView", "Store", "StoreAnswer", "StoreRequest", "ProbeResult"]
