"""Who is calling: accounts and passwords, ``ptr_…`` API keys and their request-time verifier."""

from modelsnest.auth.api_keys import ApiKeyView, create_key, list_keys, revoke_key
from modelsnest.auth.key_verifier import ApiKeyPrincipal, ApiKeyVerifier
from modelsnest.auth.users import (
    UserView,
    authenticate,
    create_user,
    get_user,
    get_user_by_email,
    grant_credits,
    list_users,
    set_user_status,
)

__all__ = [
    "ApiKeyPrincipal",
    "ApiKeyVerifier",
    "ApiKeyView",
    "UserView",
    "authenticate",
    "create_key",
    "create_user",
    "get_user",
    "get_user_by_email",
    "grant_credits",
    "list_keys",
    "list_users",
    "revoke_key",
    "set_user_status",
]
