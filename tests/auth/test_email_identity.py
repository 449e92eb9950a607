from __future__ import annotations

import pytest

from modelsnest.auth.email_identity import canonical_email, email_fingerprint


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ann+promo@example.com", "Ann@Example.com"),
        ("a.n.n@gmail.com", "ann@gmail.com"),
        ("Ann.Lee+x@GoogleMail.com", "annlee@gmail.com"),
    ],
)
def test_variants_of_one_inbox_share_a_fingerprint(a: str, b: str) -> None:
    assert email_fingerprint(a) == email_fingerprint(b)


def test_dots_count_outside_gmail() -> None:
    assert canonical_email("a.nn@example.com") != canonical_email("ann@example.com")
    assert len(email_fingerprint("x@example.com")) == 64
