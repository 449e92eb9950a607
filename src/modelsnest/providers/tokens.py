"""A local token estimator: no downloads, no vocabulary files, one C-level regex pass.

Used where no upstream count exists: the hold estimate before a call, billing the tokens a
stream delivered when it breaks before the upstream's usage chunk, upstreams that report no
usage (``Usage.reported = False``), and the simulator, which streams exactly these pieces.

How a text is cut into pieces (each piece is one token). The rules imitate the pre-tokenizer
of OpenAI's ``cl100k_base`` and the typical length of its merges:

* Latin-script words (ASCII and accented letters), with one optional leading space: a word of
  up to 8 letters is one token; a longer word costs one token per further ~4 letters
  (``"something"`` → 2, ``"internationalization"`` → 4).
* Other alphabetic scripts (Greek, Cyrillic, Armenian, Hebrew, Arabic, Indic, Thai, …
  U+0370–U+1DBF, U+1F00–U+1FFF): one token per 3 letters.
* CJK ideographs, kana and hangul: one token per character.
* Digits: groups of up to 3 (``"2024"`` → 2, as cl100k does).
* Punctuation and symbols: groups of up to 2 (``"..."`` → 2, ``'":'`` → 1).
* Whitespace: a single space before a word/number/symbol is part of that token; a run of
  line breaks (with any spaces before it) is one token; other runs of spaces are one token.
* Any other character (letters of scripts not listed, emoji, …): one token each.

On English prose and code this lands within about 10–20 % of cl100k (it over-counts long
common words and under-counts rare ones). ``split_tokens`` returns the pieces themselves:
``"".join(split_tokens(t)) == t`` and ``len(split_tokens(t)) == count_tokens(t)`` always.
Cost: one ``re.findall``, about 60 ns per character (a 10 kB prompt takes ~0.6 ms).

``estimate_prompt_tokens`` follows OpenAI's published accounting for chat prompts: 3 tokens
per message + 1 per ``name`` + the content, and 3 tokens priming the reply. Every image part
counts a fixed ``IMAGE_TOKENS`` (85, OpenAI's price of a low-detail image; a high-detail image
costs more, so this is a floor) and every other non-text part (audio, file) ``OTHER_PART_TOKENS``.
Tool definitions count as the tokens of their JSON text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

__all__ = [
    "IMAGE_TOKENS",
    "OTHER_PART_TOKENS",
    "count_tokens",
    "estimate_completion_tokens",
    "estimate_prompt_tokens",
    "message_text",
    "split_tokens",
]

IMAGE_TOKENS = 85
OTHER_PART_TOKENS = 85
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING_TOKENS = 3

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_OTHER = "\u0370-\u1dbf\u1f00-\u1fff"
_LATIN = "A-Za-z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"

# Alternatives in order of frequency in typical text (the regex engine tries them in order).
_PIECE = re.compile(
    rf"""
    \ ?[{_LATIN}]{{1,8}}(?![{_LATIN}])   # a whole short word
    | \ ?[{_LATIN}]{{1,4}}               # a long word, 4 letters at a time
    | \ ?(?:[^\w\s]|_){{1,2}}            # punctuation / symbols in pairs
    | \ ?\d{{1,3}}                        # digits in groups of 3
    | [{_CJK}]                           # one ideograph / kana / hangul syllable
    | \ ?[{_OTHER}]{{1,3}}               # other alphabets, 3 letters at a time
    | \s*[\r\n]+                         # line breaks
    | \s+(?!\S)                          # spaces, leaving one for the next word
    | \s+
    | .                                  # anything else: one token per character
    """,
    re.VERBOSE | re.DOTALL,
)
_findall = _PIECE.findall


def count_tokens(text: str) -> int:
    """The estimated number of tokens of ``text`` (0 for the empty string)."""
    return len(_findall(text)) if text else 0


def split_tokens(text: str) -> list[str]:
    """The pieces ``count_tokens`` counts, in order; they join back to ``text``."""
    return _findall(text) if text else []


def _part_tokens(part: Any) -> int:
    if not isinstance(part, Mapping):
        return count_tokens(str(part))
    kind = part.get("type")
    if kind in ("text", "input_text", "output_text", "refusal"):
        text = part.get("text", part.get("refusal"))
        return count_tokens(text) if isinstance(text, str) else 0
    if kind in ("image_url", "input_image", "image"):
        return IMAGE_TOKENS
    return OTHER_PART_TOKENS


def content_tokens(content: Any) -> int:
    """Tokens of an OpenAI message ``content``: a string, a list of parts, or null."""
    if content is None:
        return 0
    if isinstance(content, str):
        return count_tokens(content)
    if isinstance(content, list):
        return sum(_part_tokens(part) for part in content)
    return count_tokens(str(content))


def message_text(content: Any) -> str:
    """The text of an OpenAI message ``content`` (text parts joined by newlines)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p["text"] for p in content if isinstance(p, Mapping) and isinstance(p.get("text"), str)]
        return "\n".join(texts)
    return str(content)


def _tool_calls_tokens(tool_calls: Any) -> int:
    total = 0
    if not isinstance(tool_calls, list):
        return 0
    for call in tool_calls:
        function = call.get("function") if isinstance(call, Mapping) else None
        if isinstance(function, Mapping):
            total += TOKENS_PER_MESSAGE + count_tokens(str(function.get("name") or ""))
            total += count_tokens(str(function.get("arguments") or ""))
    return total


def estimate_prompt_tokens(messages: Iterable[Any], tools: Any = None) -> int:
    """Estimated prompt tokens of an OpenAI chat request's ``messages`` (and ``tools``)."""
    total = REPLY_PRIMING_TOKENS
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        total += TOKENS_PER_MESSAGE + content_tokens(message.get("content"))
        if message.get("name"):
            total += TOKENS_PER_NAME + count_tokens(str(message["name"]))
        if "tool_calls" in message:
            total += _tool_calls_tokens(message["tool_calls"])
    if tools:
        total += count_tokens(orjson.dumps(tools).decode())
    return total


def estimate_completion_tokens(body: Mapping[str, Any]) -> int:
    """Estimated completion tokens of an OpenAI ``chat.completion`` body (all choices)."""
    total = 0
    for choice in body.get("choices") or ():
        message = choice.get("message") if isinstance(choice, Mapping) else None
        if isinstance(message, Mapping):
            total += content_tokens(message.get("content"))
            total += _tool_calls_tokens(message.get("tool_calls"))
    return total
