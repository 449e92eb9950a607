"""The dashboard's chat playground, as a service (no HTTP here): conversations kept per user,
and answers streamed through the same gateway pipeline and ledger as the API, as the
signed-in user (``Caller.signed_in``, origin ``playground``). The web edge drives the stream
(``api/sse.py``) and renders the pages."""

from modelsnest.playground.chat import (
    MAX_MESSAGE_CHARS,
    MAX_SYSTEM_CHARS,
    Ask,
    PlaygroundStream,
    Receipt,
    friendly_error,
    parse_ask,
    receipt_for,
    start_answer,
)
from modelsnest.playground.conversations import (
    ConversationView,
    MessageView,
    delete_conversation,
    get_conversation,
    list_conversations,
)
from modelsnest.playground.markdown import render_answer

__all__ = [
    "MAX_MESSAGE_CHARS",
    "MAX_SYSTEM_CHARS",
    "Ask",
    "ConversationView",
    "MessageView",
    "PlaygroundStream",
    "Receipt",
    "delete_conversation",
    "friendly_error",
    "get_conversation",
    "list_conversations",
    "parse_ask",
    "receipt_for",
    "render_answer",
    "start_answer",
]
