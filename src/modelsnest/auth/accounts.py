"""``Accounts``: everything a person does with their account through the web, one method per
action (sign up, sign in with an optional second factor, verify the e-mail address, reset a
forgotten password, change it, manage sessions and two-factor sign-in, delete the account).

Every attempt that guesses something (passwords, codes, addresses) is throttled per IP and
per account through the gateway's limiter, so limits hold across replicas. Secrets are never
logged. Methods raise the domain errors (``InvalidRequest`` with the form field as ``param``,
``RateLimited``, ``AuthError``); the web layer turns them into messages next to the fields.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from modelsnest.auth import one_time_tokens, two_factor, web_sessions
from modelsnest.auth.account_records import (
    anonymise_user,
    fingerprint_taken,
    mark_email_verified,
    password_hash_of,
    set_display_name,
    set_password,
)
from modelsnest.auth.email_identity import email_fingerprint
from modelsnest.auth.password_policy import check_new_password
from modelsnest.auth.passwords import verify_password
from modelsnest.auth.signing import PENDING_LOGIN_MAX_AGE, Signer
from modelsnest.auth.users import (
    UserView,
    authenticate,
    create_user,
    get_user,
    get_user_by_email,
    grant_credits,
    normalize_email,
)
from modelsnest.auth.web_sessions import SessionInfo, SessionPolicy, SignedIn
from modelsnest.crypto import SecretBox
from modelsnest.db.engine import SessionFactory
from modelsnest.errors import AuthError, InvalidRequest
from modelsnest.mail import Mailer

log = logging.getLogger(__name__)

# Attempts per minute. Per IP: generous for offices behind one address; per account: tight,
# since that is where a guesser aims.
LOGIN_PER_IP, LOGIN_PER_ACCOUNT = 30, 10
SECOND_FACTOR_PER_IP, SECOND_FACTOR_PER_ACCOUNT = 20, 5
SIGNUP_PER_IP = 5
RESET_PER_IP, RESET_MAILS_PER_ACCOUNT = 5, 2
RESET_SUBMIT_PER_IP = 10
VERIFY_MAILS_PER_ACCOUNT = 2
PASSWORD_CHECKS_PER_ACCOUNT = 5


class Throttle(Protocol):
    """``gateway.limits.RateLimits`` (in memory, or Redis shared by every replica)."""

    async def hit(self, namespace: str, key: str, per_minute: int) -> None: ...


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    sessions: SessionPolicy
    email_verification: bool = False
    signup_bonus_nanos: int = 0
    admin_require_2fa: bool = False


@dataclass(frozen=True, slots=True)
class Client:
    """Who is asking: for throttling and for the list of sessions."""

    ip: str | None = None
    user_agent: str | None = None

    @property
    def ip_key(self) -> str:
        return self.ip or "unknown"


@dataclass(frozen=True, slots=True)
class SignInResult:
    """After the password step: a session, or a pending login awaiting the second factor."""

    user: UserView
    session_token: str | None = None
    pending_token: str | None = None

    @property
    def needs_second_factor(self) -> bool:
        return self.session_token is None


class Accounts:
    def __init__(
        self,
        sessions: SessionFactory,
        *,
        box: SecretBox,
        signer: Signer,
        mailer: Mailer,
        throttle: Throttle,
        policy: AccountPolicy,
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.signer = signer
        self.mailer = mailer
        self.throttle = throttle
        self.policy = policy
        self._background: set[asyncio.Task[Any]] = set()

    # --- signing in and out ----------------------------------------------------------------

    async def resolve(self, session_token: str | None) -> SignedIn | None:
        if not session_token:
            return None
        return await web_sessions.resolve_session(self.sessions, session_token, self.policy.sessions)

    async def sign_in(self, email: str, password: str, client: Client) -> SignInResult:
        """The password step. AuthError for a wrong e-mail or password (the same message, the
        same time, either way); RateLimited after too many attempts."""
        await self.throttle.hit("login:ip", client.ip_key, LOGIN_PER_IP)
        await self.throttle.hit("login:account", email.strip().lower(), LOGIN_PER_ACCOUNT)
        user = await authenticate(self.sessions, email, password)
        if user is None:
            raise AuthError("wrong e-mail or password", code="INVALID_CREDENTIALS")
        if await two_factor.is_enabled(self.sessions, user.id):
            nonce = secrets.token_urlsafe(8)
            return SignInResult(user=user, pending_token=self.signer.dumps("pending-login", [user.id, nonce]))
        return SignInResult(user=user, session_token=await self._start(user.id, client))

    def pending_user_id(self, pending_token: str | None) -> int | None:
        value = self.signer.loads("pending-login", pending_token, max_age=PENDING_LOGIN_MAX_AGE)
        if isinstance(value, list) and value and isinstance(value[0], int):
            return value[0]
        return None

    async def complete_second_factor(
        self, pending_token: str | None, code: str, client: Client
    ) -> SignInResult:
        """The second step: a TOTP code or a recovery code. AuthError when the pending login
        expired (sign in again) or the code is wrong or already used."""
        user_id = self.pending_user_id(pending_token)
        if user_id is None:
            raise AuthError("this sign-in expired: enter your password again", code="LOGIN_EXPIRED")
        await self.throttle.hit("2fa:ip", client.ip_key, SECOND_FACTOR_PER_IP)
        await self.throttle.hit("2fa:account", str(user_id), SECOND_FACTOR_PER_ACCOUNT)
        user = await get_user(self.sessions, user_id)
        if user is None or user.status != "active":
            raise AuthError("this sign-in expired: enter your password again", code="LOGIN_EXPIRED")
        if not await two_factor.verify(self.sessions, self.box, user_id, code):
            raise InvalidRequest("that code is not right, or it was already used", param="code")
        return SignInResult(user=user, session_token=await self._start(user_id, client))

    async def sign_out(self, signed_in: SignedIn) -> None:
        await web_sessions.revoke_session(self.sessions, signed_in.user_id, signed_in.session_id)

    async def admin_needs_enrolment(self, user: UserView) -> bool:
        """An admin without a second factor while the operator requires one."""
        return (
            user.role == "admin"
            and self.policy.admin_require_2fa
            and not await two_factor.is_enabled(self.sessions, user.id)
        )

    async def _start(self, user_id: int, client: Client) -> str:
        return await web_sessions.start_session(
            self.sessions, user_id, self.policy.sessions, ip_address=client.ip, user_agent=client.user_agent
        )

    async def _rotate(self, signed_in: SignedIn, client: Client, *, others_too: bool) -> str:
        """A new session id after a privilege change; the old one (and others) end."""
        if others_too:
            await web_sessions.revoke_sessions(self.sessions, signed_in.user_id)
        else:
            await web_sessions.revoke_session(self.sessions, signed_in.user_id, signed_in.session_id)
        return await self._start(signed_in.user_id, client)

    # --- signing up and verifying the address -----------------------------------------------

    async def sign_up(
        self,
        *,
        email: str,
        password: str,
        name: str | None,
        accepted_terms: bool,
        client: Client,
        site_url: str,
    ) -> SignInResult:
        """A new account, signed in. InvalidRequest names the field at fault; Conflict when the
        address (or, with a sign-up bonus, a ``+tag``/dots variant of it) has an account."""
        address = normalize_email(email)
        display_name = _clean_name(name)
        check_new_password(password, user_inputs=[address, display_name])
        if not accepted_terms:
            raise InvalidRequest("accept the terms of service to create an account", param="accept_terms")
        # Counted once the form is valid: a typo costs nothing, every attempt that could create
        # an account (or learn that one exists) does.
        await self.throttle.hit("signup:ip", client.ip_key, SIGNUP_PER_IP)
        bonus = self.policy.signup_bonus_nanos
        if bonus:
            fingerprint = email_fingerprint(address)
            if await fingerprint_taken(self.sessions, fingerprint):
                raise InvalidRequest(
                    "an account already exists for this address (addresses that differ only by a "
                    "+tag, or by dots in Gmail, count as one): sign in instead",
                    param="email",
                )
            # One sign-up per canonical address per minute across replicas: two racing sign-ups
            # of near-identical addresses cannot both pass the check above.
            await self.throttle.hit("signup:fingerprint", fingerprint, 1)
        user = await create_user(self.sessions, email=address, password=password)
        if display_name:
            user = await set_display_name(self.sessions, user.id, display_name)
        if self.policy.email_verification:
            await self._send_verification(user, site_url)
        elif bonus:
            await self._grant_bonus(user.id)
        return SignInResult(user=user, session_token=await self._start(user.id, client))

    async def resend_verification(self, user: UserView, site_url: str) -> None:
        if user.email_verified_at is not None:
            return
        await self.throttle.hit("verify-mail:account", str(user.id), VERIFY_MAILS_PER_ACCOUNT)
        await self._send_verification(user, site_url)

    async def verify_email(self, token: str) -> UserView | None:
        """Mark the address verified (and grant the sign-up bonus then, when verification is on);
        None for an unknown, used or expired link, or one sent to a since-changed address."""
        verified = await one_time_tokens.use_verification_token(self.sessions, token)
        if verified is None:
            return None
        user = await mark_email_verified(self.sessions, verified.user_id, verified.email)
        if user is not None and self.policy.signup_bonus_nanos and self.policy.email_verification:
            await self._grant_bonus(user.id)
        return user

    async def _send_verification(self, user: UserView, site_url: str) -> None:
        token = await one_time_tokens.issue_verification_token(self.sessions, user.id, user.email)
        self.mailer.send(
            "verify_email",
            to=user.email,
            email=user.email,
            url=f"{site_url}/verify-email?token={token}",
            valid_for="2 days",
            site_url=site_url,
        )

    async def _grant_bonus(self, user_id: int) -> None:
        await grant_credits(
            self.sessions,
            user_id=user_id,
            amount_nanos=self.policy.signup_bonus_nanos,
            actor="signup",
            reason="sign-up bonus",
            idempotency_key=f"grant:signup-bonus:user:{user_id}",
        )

    # --- forgotten passwords ----------------------------------------------------------------

    async def request_password_reset(self, email: str, client: Client, site_url: str) -> None:
        """Mail a reset link if the address has an account. Returns at once, before looking the
        address up, so neither the answer nor its timing says whether an account exists."""
        await self.throttle.hit("reset:ip", client.ip_key, RESET_PER_IP)
        self._in_background(self._mail_reset_link(email, site_url))

    async def _mail_reset_link(self, email: str, site_url: str) -> None:
        user = await get_user_by_email(self.sessions, email)
        if user is None or user.status != "active":
            return
        try:  # a quiet limit: the answer must stay the same
            await self.throttle.hit("reset:account", str(user.id), RESET_MAILS_PER_ACCOUNT)
        except Exception:
            return
        token = await one_time_tokens.issue_reset_token(self.sessions, user.id)
        self.mailer.send(
            "reset_password",
            to=user.email,
            email=user.email,
            url=f"{site_url}/reset-password?token={token}",
            valid_for="1 hour",
            site_url=site_url,
        )

    async def reset_link_valid(self, token: str) -> bool:
        return await one_time_tokens.reset_token_user(self.sessions, token) is not None

    async def reset_password(self, token: str, password: str, client: Client, site_url: str) -> UserView:
        """Set a new password with a reset link (once) and end every session of the account.
        AuthError for an unknown, used or expired link."""
        await self.throttle.hit("reset-submit:ip", client.ip_key, RESET_SUBMIT_PER_IP)
        user_id = await one_time_tokens.reset_token_user(self.sessions, token)
        user = await get_user(self.sessions, user_id) if user_id is not None else None
        if user is None:
            raise AuthError(
                "this reset link is invalid, used or expired: ask for a new one", code="INVALID_LINK"
            )
        check_new_password(password, user_inputs=[user.email, user.display_name])
        if await one_time_tokens.use_reset_token(self.sessions, token) != user.id:
            raise AuthError(
                "this reset link is invalid, used or expired: ask for a new one", code="INVALID_LINK"
            )
        await set_password(self.sessions, user.id, password)
        await web_sessions.revoke_sessions(self.sessions, user.id)
        self._password_changed_mail(user, site_url)
        return user

    def _password_changed_mail(self, user: UserView, site_url: str) -> None:
        self.mailer.send(
            "password_changed",
            to=user.email,
            email=user.email,
            reset_url=f"{site_url}/forgot-password",
            site_url=site_url,
        )

    # --- settings ---------------------------------------------------------------------------

    async def update_profile(self, signed_in: SignedIn, name: str | None) -> UserView:
        return await set_display_name(self.sessions, signed_in.user_id, _clean_name(name))

    async def change_password(
        self, signed_in: SignedIn, current: str, new: str, client: Client, site_url: str
    ) -> str:
        """New password (the current one required); every other session ends and this one gets
        a new id, returned."""
        user = signed_in.user
        await self._check_password(user.id, current, param="current_password")
        check_new_password(new, user_inputs=[user.email, user.display_name])
        await set_password(self.sessions, user.id, new)
        self._password_changed_mail(user, site_url)
        return await self._rotate(signed_in, client, others_too=True)

    async def list_sessions(self, signed_in: SignedIn) -> list[SessionInfo]:
        return await web_sessions.list_sessions(self.sessions, signed_in.user_id, self.policy.sessions)

    async def revoke_session(self, signed_in: SignedIn, session_id: int) -> None:
        """End another of the user's sessions (NotFound for someone else's). The current one
        ends with ``sign_out``."""
        if session_id == signed_in.session_id:
            raise InvalidRequest("this is the session you are using: sign out instead", param="session_id")
        await web_sessions.revoke_session(self.sessions, signed_in.user_id, session_id)

    async def revoke_other_sessions(self, signed_in: SignedIn) -> int:
        return await web_sessions.revoke_sessions(self.sessions, signed_in.user_id, keep=signed_in.session_id)

    async def two_factor_status(self, signed_in: SignedIn) -> two_factor.TwoFactorStatus:
        return await two_factor.status(self.sessions, signed_in.user_id)

    async def begin_two_factor(self, signed_in: SignedIn) -> two_factor.Enrolment:
        """The pending authenticator (kept across reloads of the set-up page), or a new one."""
        pending = await two_factor.pending_enrolment(
            self.sessions, self.box, signed_in.user_id, signed_in.user.email
        )
        return pending or await two_factor.begin_enrolment(
            self.sessions, self.box, signed_in.user_id, signed_in.user.email
        )

    async def confirm_two_factor(
        self, signed_in: SignedIn, code: str, client: Client
    ) -> tuple[list[str], str]:
        """Turn it on; returns the recovery codes and the session's new id."""
        await self.throttle.hit("2fa-enrol:account", str(signed_in.user_id), SECOND_FACTOR_PER_ACCOUNT)
        codes = await two_factor.confirm_enrolment(self.sessions, self.box, signed_in.user_id, code)
        return codes, await self._rotate(signed_in, client, others_too=False)

    async def disable_two_factor(self, signed_in: SignedIn, password: str, client: Client) -> str:
        await self._check_password(signed_in.user_id, password, param="password")
        await two_factor.disable(self.sessions, signed_in.user_id)
        return await self._rotate(signed_in, client, others_too=False)

    async def regenerate_recovery_codes(self, signed_in: SignedIn, password: str) -> list[str]:
        await self._check_password(signed_in.user_id, password, param="password")
        return await two_factor.regenerate_recovery_codes(self.sessions, signed_in.user_id)

    async def delete_account(self, signed_in: SignedIn, password: str) -> None:
        """Anonymise the person (address replaced, password, sessions, second factor and
        notifications removed, keys revoked); the ledger and usage rows stay, as the books must."""
        await self._check_password(signed_in.user_id, password, param="password")
        await anonymise_user(self.sessions, signed_in.user_id)

    async def _check_password(self, user_id: int, password: str, *, param: str) -> None:
        await self.throttle.hit("password:account", str(user_id), PASSWORD_CHECKS_PER_ACCOUNT)
        stored = await password_hash_of(self.sessions, user_id)
        if not await asyncio.to_thread(verify_password, stored, password):
            raise InvalidRequest("that password is not right", param=param)

    # --- background work --------------------------------------------------------------------

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.warning("background account task failed", exc_info=True)

        task = asyncio.ensure_future(guarded())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for background work and the mail it queued (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self.mailer.drain()


def _clean_name(name: str | None) -> str | None:
    cleaned = " ".join((name or "").split())
    if len(cleaned) > 120:
        raise InvalidRequest("the name must be at most 120 characters", param="name")
    return cleaned or None
