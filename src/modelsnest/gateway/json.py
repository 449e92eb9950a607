"""JSON for the hot path (orjson) with exact money: amounts are written as JSON numbers from
their exact decimal text (``orjson.Fragment``), never through a float."""

from __future__ import annotations

from typing import Any

import orjson

from modelsnest.money import usd_str


def money(nanos: int) -> orjson.Fragment:
    return orjson.Fragment(usd_str(nanos).encode())


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)
