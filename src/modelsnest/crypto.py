"""Encryption of stored provider API keys (Fernet, key derived from the secret key), and the
one-way token hash used for API keys, sessions and reset tokens."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


class SecretBox:
    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(b"modelsnest/provider-keys/v1|" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("stored secret cannot be decrypted: was MODELSNEST_SECRET_KEY changed?") from exc


def token_hash(token: str) -> str:
    """SHA-256 hex of a high-entropy token. (Passwords use argon2id, never this.)"""
    return hashlib.sha256(token.encode()).hexdigest()
