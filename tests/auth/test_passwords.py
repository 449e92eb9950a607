from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from modelsnest.auth import passwords
from modelsnest.auth.passwords import hash_password, needs_rehash, verify_password
from modelsnest.errors import InvalidRequest


def test_hash_is_argon2id_and_salted() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("$argon2id$")
    assert first != second
    assert "correct horse" not in first


def test_verify_accepts_the_password_and_nothing_else() -> None:
    stored = hash_password("correct horse")
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "correct horsE")
    assert not verify_password(stored, "")
    assert not verify_password(stored, "x" * 5000)


def test_missing_or_garbled_hash_is_false_and_still_does_the_work(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_verify = PasswordHasher.verify

    def spy(self: PasswordHasher, hash: str, password: str) -> bool:
        calls.append(hash)
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    assert not verify_password(None, "whatever1")
    assert not verify_password("", "whatever1")
    assert not verify_password("not-a-hash", "whatever1")
    # Each case ran a real argon2 verification against the dummy hash (timing parity).
    assert calls.count(passwords._dummy_hash()) == 3


@pytest.mark.parametrize("password", ["", "short", "1234567"])
def test_short_passwords_are_refused(password: str) -> None:
    with pytest.raises(InvalidRequest, match="at least 8"):
        hash_password(password)


def test_overlong_passwords_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="at most"):
        hash_password("x" * 1025)


def test_needs_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("correct horse")
    assert verify_password(weak, "correct horse")
    assert needs_rehash(weak)
    assert not needs_rehash(hash_password("correct horse"))
    assert needs_rehash("garbage")
