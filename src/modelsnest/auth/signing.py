"""Signed, expiring values handed to browsers (itsdangerous, keyed by the secret key).

* the CSRF token of an anonymous visitor: bound to their random ``anon`` cookie, so a form
  on another site can neither read nor forge it (signed double-submit);
* the pending-login token between the password step and the second factor;
* one-shot flash messages shown after a redirect.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer

ANON_CSRF_MAX_AGE = 12 * 3600
PENDING_LOGIN_MAX_AGE = 5 * 60
FLASH_MAX_AGE = 60


class Signer:
    def __init__(self, secret_key: str) -> None:
        self._secret = secret_key

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self._secret, salt=f"modelsnest/{purpose}/v1")

    def dumps(self, purpose: str, value: Any) -> str:
        return self._serializer(purpose).dumps(value)

    def loads(self, purpose: str, token: str | None, *, max_age: int) -> Any | None:
        """The signed value, or None when the token is missing, forged, or older than max_age."""
        if not token or len(token) > 4096:
            return None
        try:
            return self._serializer(purpose).loads(token, max_age=max_age)
        except BadData:
            return None

    def anon_csrf_token(self, anon_id: str) -> str:
        return self.dumps("anon-csrf", _digest(anon_id))

    def check_anon_csrf_token(self, anon_id: str | None, token: str | None) -> bool:
        if not anon_id:
            return False
        value = self.loads("anon-csrf", token, max_age=ANON_CSRF_MAX_AGE)
        return isinstance(value, str) and hmac.compare_digest(value, _digest(anon_id))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]
