"""One person, one sign-up bonus: the canonical form of an address and its fingerprint.

``Ann.Lee+promo@GoogleMail.com`` and ``annlee@gmail.com`` reach the same inbox: the canonical
form drops a ``+tag`` everywhere, and the dots of Gmail addresses, and lower-cases all of it.
Only the SHA-256 of it (the fingerprint) is stored, in ``users.email_fingerprint``, and it is
kept when an account is deleted, so deleting and signing up again does not earn a second bonus.
"""

from __future__ import annotations

import hashlib

_DOT_BLIND_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def canonical_email(address: str) -> str:
    local, _, domain = address.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _DOT_BLIND_DOMAINS:
        domain = _DOT_BLIND_DOMAINS[domain]
        local = local.replace(".", "")
    return f"{local}@{domain}"


def email_fingerprint(address: str) -> str:
    return hashlib.sha256(b"modelsnest/email/v1|" + canonical_email(address).encode()).hexdigest()
