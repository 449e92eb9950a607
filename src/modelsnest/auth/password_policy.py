"""What a new password must be: 8 to 1024 characters (``passwords.validate_password``) and not
easy to guess, as judged by zxcvbn (dictionary words, names, keyboard patterns, dates, l33t,
and the user's own e-mail and name). No composition rules: NIST SP 800-63B advises against
them, and a long passphrase of plain words passes."""

from __future__ import annotations

from collections.abc import Iterable

from modelsnest.auth.passwords import validate_password
from modelsnest.errors import InvalidRequest

# zxcvbn scores 0-4; 3 means "safely unguessable" (about 10^10 guesses), enough against an
# offline attack on a leaked argon2id hash.
MIN_SCORE = 3
# zxcvbn's cost grows with the length; the first 100 characters decide well enough.
_SCORED_LENGTH = 100


def check_new_password(password: str, *, user_inputs: Iterable[str | None] = ()) -> None:
    """InvalidRequest (param ``password``) with advice when the password is too weak."""
    validate_password(password)
    # Imported here: its dictionaries are 11 MB, in every worker, for a check only sign-up,
    # password change and reset make.
    from zxcvbn import zxcvbn

    words: list[str] = []
    for value in user_inputs:
        if value:
            lowered = value.lower()
            words += [lowered, lowered.replace(" ", ""), lowered.split("@")[0]]
            words.extend(
                part for part in lowered.replace("@", " ").replace(".", " ").split() if len(part) > 2
            )
    result = zxcvbn(password[:_SCORED_LENGTH], user_inputs=words)
    if int(result["score"]) >= MIN_SCORE:
        return
    feedback = result.get("feedback") or {}
    advice = [str(feedback.get("warning") or "").strip()]
    advice += [str(s).strip() for s in feedback.get("suggestions") or []]
    detail = " ".join(a if a.endswith(".") else a + "." for a in advice if a)
    raise InvalidRequest(
        "this password is too easy to guess. " + (detail or "Use a longer phrase of unrelated words."),
        param="password",
    )
