"""Rerank (Cohere / Jina's ``POST /rerank``): the request every adapter receives, normalized
by the gateway (``query``, ``documents`` as strings, ``top_n``, ``return_documents``), the
simulator's deterministic scores, and the reading of an upstream's answer.

Results are best first: ``index`` (into ``documents``), ``relevance_score`` (0–1) and, when
asked, ``document: {"text"}``. Usage is the tokens read (the query once per document plus
every document, counted locally when the upstream reports none) and Cohere's search units
(one per query and up to 100 documents)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from modelsnest.providers.errors import ProviderProtocolError
from modelsnest.providers.media_types import RerankResult
from modelsnest.providers.tokens import count_tokens
from modelsnest.providers.types import Usage

DOCUMENTS_PER_SEARCH_UNIT = 100
_WORD = re.compile(r"\w+", re.UNICODE)


def search_units(documents: int) -> int:
    return max(1, -(-documents // DOCUMENTS_PER_SEARCH_UNIT))


def local_tokens(query: str, documents: Sequence[str]) -> int:
    return count_tokens(query) * len(documents) + sum(count_tokens(d) for d in documents)


def relevance(query: str, document: str) -> float:
    """The simulator's score: the share of the query's words found in the document (0.9 of
    it), plus a stable tie-break of 0–0.1 from the pair's hash. Deterministic, in [0, 1]."""
    words = {w.lower() for w in _WORD.findall(query)}
    found = {w.lower() for w in _WORD.findall(document)}
    overlap = len(words & found) / len(words) if words else 0.0
    digest = hashlib.sha256(f"{query}\x00{document}".encode()).digest()
    jitter = int.from_bytes(digest[:4], "big") / 2**32
    return round(0.9 * overlap + 0.1 * jitter, 6)


def shaped(
    ranked: Sequence[tuple[int, float]], documents: Sequence[str], request: Mapping[str, Any]
) -> list[dict[str, Any]]:
    top_n = request.get("top_n")
    chosen = list(ranked)[: top_n if isinstance(top_n, int) and top_n > 0 else None]
    results: list[dict[str, Any]] = []
    for index, score in chosen:
        result: dict[str, Any] = {"index": index, "relevance_score": score}
        if request.get("return_documents"):
            result["document"] = {"text": documents[index]}
        results.append(result)
    return results


def simulated_rerank(request: Mapping[str, Any], upstream_model: str) -> RerankResult:
    query = str(request["query"])
    documents = [str(d) for d in request["documents"]]
    scores = [(i, relevance(query, d)) for i, d in enumerate(documents)]
    scores.sort(key=lambda pair: (-pair[1], pair[0]))
    tokens = local_tokens(query, documents)
    units = search_units(len(documents))
    body = {
        "model": upstream_model,
        "results": shaped(scores, documents, request),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens, "search_units": units},
    }
    return RerankResult(body, Usage(prompt_tokens=tokens), upstream_model, units)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def read_rerank_answer(
    answer: Any, request: Mapping[str, Any], upstream_model: str, provider: str
) -> RerankResult:
    """An upstream's rerank answer (Jina: ``usage.total_tokens``; Cohere:
    ``meta.billed_units.search_units``), reshaped as ours."""
    if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
        raise ProviderProtocolError(f"{provider}: rerank answer has no results list")
    query = str(request["query"])
    documents = [str(d) for d in request["documents"]]
    ranked: list[tuple[int, float]] = []
    for item in answer["results"]:
        if not isinstance(item, dict):
            raise ProviderProtocolError(f"{provider}: rerank result is not an object")
        index, score = item.get("index"), item.get("relevance_score")
        if (
            not isinstance(index, int)
            or not 0 <= index < len(documents)
            or not isinstance(score, int | float)
        ):
            raise ProviderProtocolError(f"{provider}: rerank result without a valid index and score")
        ranked.append((index, float(score)))
    usage = _mapping(answer.get("usage"))
    billed = _mapping(_mapping(answer.get("meta")).get("billed_units"))
    tokens = _count(usage.get("total_tokens")) or _count(usage.get("prompt_tokens"))
    reported = tokens is not None
    if tokens is None:
        tokens = local_tokens(query, documents)
    units = _count(billed.get("search_units")) or search_units(len(documents))
    body = {
        "model": answer.get("model") or upstream_model,
        "results": shaped(ranked, documents, {**request, "top_n": None}),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens, "search_units": units},
    }
    return RerankResult(body, Usage(prompt_tokens=tokens, reported=reported), upstream_model, units)
