"""The ``ptr_…`` API key format: 32 random bytes, URL-safe, behind a fixed marker.

Only ``token_hash(token)`` (SHA-256) and the display prefix are ever stored. SHA-256 without
a salt is the right tool here (unlike passwords): the token carries 256 bits of randomness, so
there is nothing to brute-force, and a plain hash keeps the lookup a single indexed read.
"""

from __future__ import annotations

import re
import secrets

TOKEN_MARKER = "ptr_"
TOKEN_RANDOM_BYTES = 32
# "ptr_" + 8 random characters: enough to tell keys apart in a list, far too little to guess
# the remaining 35 characters (≈210 bits) from.
DISPLAY_PREFIX_LENGTH = 12

_TOKEN_RE = re.compile(r"ptr_[A-Za-z0-9_-]{32,128}")


def new_token() -> str:
    return TOKEN_MARKER + secrets.token_urlsafe(TOKEN_RANDOM_BYTES)


def display_prefix(token: str) -> str:
    return token[:DISPLAY_PREFIX_LENGTH]


def is_well_formed(token: str) -> bool:
    """Cheap syntax check, so garbage is refused without a database read."""
    return _TOKEN_RE.fullmatch(token) is not None
