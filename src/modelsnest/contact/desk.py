from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from modelsnest.auth.users import normalize_email
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models.contact import ContactMessage
from modelsnest.errors import InvalidRequest
from modelsnest.mail import Mailer

# What a visitor may write about; security and privacy reports have their own addresses.
TOPICS: Final[Mapping[str, str]] = {
    "support": "Help with the API or my account",
    "billing": "Billing and payments",
    "sales": "Volume, enterprise or custom models",
    "partnerships": "Partnerships and integrations",
    "press": "Press",
    "other": "Something else",
}
MAX_NAME_LENGTH: Final = 200
MIN_MESSAGE_LENGTH: Final = 10
MAX_MESSAGE_LENGTH: Final = 5000
PER_IP_PER_MINUTE: Final = 3
PER_ADDRESS_PER_MINUTE: Final = 2


class Throttle(Protocol):
    """``gateway.limits.RateLimits`` (in memory, or Redis shared by every replica)."""

    async def hit(self, namespace: str, key: str, per_minute: int) -> None: ...


@dataclass(frozen=True)
class Submission:
    """The outcome of a submitted form. ``message_id`` is None when the honeypot caught a bot
    (it is told the same thanks as a person, and nothing is stored or sent)."""

    message_id: int | None
    name: str
    email: str
    topic: str


class ContactDesk:
    def __init__(self, sessions: SessionFactory, mailer: Mailer, throttle: Throttle, to_address: str) -> None:
        self._sessions = sessions
        self._mailer = mailer
        self._throttle = throttle
        self.to_address = to_address

    async def submit(
        self,
        *,
        name: str,
        email: str,
        topic: str,
        message: str,
        client_ip: str | None,
        site_url: str,
        user_id: int | None = None,
        account_email: str | None = None,
        trap: str = "",
    ) -> Submission:
        """Validate (``InvalidRequest`` naming the field), throttle (``RateLimited``), store and
        mail one message. ``trap`` is the honeypot field: a person leaves it empty."""
        name = " ".join(name.split())
        if not name:
            raise InvalidRequest("enter your name", param="name")
        if len(name) > MAX_NAME_LENGTH:
            raise InvalidRequest(f"a name has at most {MAX_NAME_LENGTH} characters", param="name")
        try:
            address = normalize_email(email)
        except InvalidRequest:
            raise InvalidRequest("enter an e-mail address we can reply to", param="email") from None
        if topic not in TOPICS:
            raise InvalidRequest("choose what your message is about", param="topic")
        text = message.strip().replace("\r\n", "\n")
        if len(text) < MIN_MESSAGE_LENGTH:
            raise InvalidRequest(
                f"write a little more: at least {MIN_MESSAGE_LENGTH} characters", param="message"
            )
        if len(text) > MAX_MESSAGE_LENGTH:
            raise InvalidRequest(
                f"a message has at most {MAX_MESSAGE_LENGTH:,} characters (this one has {len(text):,})",
                param="message",
            )
        await self._throttle.hit("contact-ip", client_ip or "unknown", PER_IP_PER_MINUTE)
        if trap.strip():
            return Submission(None, name, address, topic)
        await self._throttle.hit("contact-email", address.lower(), PER_ADDRESS_PER_MINUTE)
        async with self._sessions.begin() as session:
            row = ContactMessage(name=name, email=address, topic=topic, message=text, user_id=user_id)
            session.add(row)
            await session.flush()
            message_id = row.id
        self._mailer.send(
            "contact_message",
            to=self.to_address,
            reply_to=address,
            name=name,
            email=address,
            topic_label=TOPICS[topic],
            message=text,
            message_id=message_id,
            account=account_email,
            site_url=site_url,
        )
        return Submission(message_id, name, address, topic)
