"""The site's contact form, as a service: validate a message, throttle senders, store it
(``contact_messages``) and mail it to the operator (``MODELSNEST_CONTACT_EMAIL``), with the
sender as Reply-To. No HTTP here; ``web.routes.site.contact`` renders the form."""

from modelsnest.contact.desk import (
    MAX_MESSAGE_LENGTH,
    MIN_MESSAGE_LENGTH,
    TOPICS,
    ContactDesk,
    Submission,
)

__all__ = ["MAX_MESSAGE_LENGTH", "MIN_MESSAGE_LENGTH", "TOPICS", "ContactDesk", "Submission"]
