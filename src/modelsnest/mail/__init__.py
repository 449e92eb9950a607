"""Outgoing e-mail: messages composed from templates (text and HTML), delivered over SMTP
(aiosmtplib) or, with no SMTP configured, written to an outbox folder of ``.eml`` files.

``Mailer.send`` never blocks or fails the request that calls it: delivery runs in the
background and a failure is a logged warning. Tests await the task it returns (or
``Mailer.drain``)."""

from modelsnest.mail.mailer import Mailer
from modelsnest.mail.message import compose
from modelsnest.mail.transport import OutboxEntry, OutboxTransport, SmtpTransport, Transport

__all__ = ["Mailer", "OutboxEntry", "OutboxTransport", "SmtpTransport", "Transport", "compose"]
