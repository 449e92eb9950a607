from __future__ import annotations

import pytest

from modelsnest.auth.password_policy import check_new_password
from modelsnest.errors import InvalidRequest


@pytest.mark.parametrize(
    "password", ["correct-horse-battery-staple", "violet kettle orbit 42", "Tr0ub4dor&3-extra"]
)
def test_passphrases_pass(password: str) -> None:
    check_new_password(password, user_inputs=["ann@example.com"])


@pytest.mark.parametrize("password", ["password123", "qwertyuiop", "abc", "annlee2026", "ann@example.com"])
def test_guessable_passwords_are_refused_with_advice(password: str) -> None:
    with pytest.raises(InvalidRequest) as error:
        check_new_password(password, user_inputs=["ann@example.com", "Ann Lee"])
    assert error.value.param == "password"


def test_very_long_passwords_are_refused_fast() -> None:
    with pytest.raises(InvalidRequest, match="at most 1024"):
        check_new_password("x" * 5000)
