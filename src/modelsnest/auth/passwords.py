"""Password hashing: argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile).

Verification takes the same time whether or not the account exists: a missing or unusable
hash is replaced by a dummy one, so a login attempt cannot probe which e-mails have accounts.
These calls cost ~0.1 s of CPU each; async callers run them in a worker thread.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from modelsnest.errors import InvalidRequest

MIN_PASSWORD_LENGTH = 8
# Long enough for any passphrase or manager-generated password, short enough that nobody can
# make us hash megabytes.
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()  # stateless and thread-safe: parameters only


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(f"password must be at least {MIN_PASSWORD_LENGTH} characters", param="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidRequest(f"password must be at most {MAX_PASSWORD_LENGTH} characters", param="password")


def hash_password(password: str) -> str:
    validate_password(password)
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("modelsnest-dummy-password")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches. A ``None`` or malformed hash costs the same and is False."""
    if len(password) > MAX_PASSWORD_LENGTH:
        # No stored password can be this long; still spend the time a real check would.
        _matches(_dummy_hash(), password[:MAX_PASSWORD_LENGTH])
        return False
    if not password_hash:
        _matches(_dummy_hash(), password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except VerificationError:  # includes VerifyMismatchError
        return False
    except InvalidHashError:
        _matches(_dummy_hash(), password)
        return False


def _matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except VerificationError:
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's (rehash at next login)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True
