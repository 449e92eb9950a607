"""Playground conversations: one user's chats and their turns. Every lookup is scoped to
the owner; another user's conversation reads as one that does not exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models.playground import PlaygroundConversation, PlaygroundMessage
from modelsnest.errors import NotFound

MAX_TITLE_CHARS = 80
LIST_LIMIT = 50


@dataclass(frozen=True)
class ConversationView:
    id: int
    title: str
    model_slug: str
    system_prompt: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class MessageView:
    id: int
    role: str
    content: str
    model_slug: str | None
    status: str | None
    cost_nanos: int
    latency_ms: int | None
    created_at: datetime


def _conversation(row: PlaygroundConversation) -> ConversationView:
    return ConversationView(
        row.id, row.title, row.model_slug, row.system_prompt, row.created_at, row.updated_at
    )


def _message(row: PlaygroundMessage) -> MessageView:
    return MessageView(
        row.id,
        row.role,
        row.content,
        row.model_slug,
        row.status,
        row.cost_nanos,
        row.latency_ms,
        row.created_at,
    )


def title_from(message: str) -> str:
    words = " ".join(message.split())
    return words if len(words) <= MAX_TITLE_CHARS else words[: MAX_TITLE_CHARS - 1].rstrip() + "…"


async def list_conversations(
    sessions: SessionFactory, user_id: int, *, limit: int = LIST_LIMIT
) -> list[ConversationView]:
    """The user's conversations, most recently active first."""
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(PlaygroundConversation)
                .where(PlaygroundConversation.user_id == user_id)
                .order_by(PlaygroundConversation.updated_at.desc(), PlaygroundConversation.id.desc())
                .limit(limit)
            )
        ).all()
    return [_conversation(row) for row in rows]


async def get_conversation(
    sessions: SessionFactory, user_id: int, conversation_id: int
) -> tuple[ConversationView, list[MessageView]]:
    async with sessions() as session:
        row = await session.get(PlaygroundConversation, conversation_id)
        if row is None or row.user_id != user_id:
            raise NotFound("there is no such conversation")
        messages = (
            await session.scalars(
                select(PlaygroundMessage)
                .where(PlaygroundMessage.conversation_id == conversation_id)
                .order_by(PlaygroundMessage.id)
            )
        ).all()
        return _conversation(row), [_message(m) for m in messages]


async def save_question(
    sessions: SessionFactory,
    *,
    user_id: int,
    conversation_id: int | None,
    model_slug: str,
    system_prompt: str | None,
    content: str,
) -> int:
    """The user's turn, in a new conversation (``conversation_id`` None) or an existing one
    of theirs; returns the conversation id."""
    async with sessions.begin() as session:
        now = utcnow()
        if conversation_id is None:
            row = PlaygroundConversation(
                user_id=user_id,
                title=title_from(content),
                model_slug=model_slug,
                system_prompt=system_prompt,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            await session.flush()
            conversation_id = row.id
        else:
            changed = await session.execute(
                update(PlaygroundConversation)
                .where(
                    PlaygroundConversation.id == conversation_id,
                    PlaygroundConversation.user_id == user_id,
                )
                .values(updated_at=now, model_slug=model_slug, system_prompt=system_prompt)
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                raise NotFound("there is no such conversation")
        session.add(
            PlaygroundMessage(
                conversation_id=conversation_id,
                role="user",
                content=content,
                model_slug=model_slug,
                cost_nanos=0,
                created_at=now,
            )
        )
    return conversation_id


async def save_answer(
    sessions: SessionFactory,
    *,
    conversation_id: int,
    content: str,
    model_slug: str,
    request_id: str,
    status: str,
    cost_nanos: int,
    latency_ms: int | None,
) -> int:
    async with sessions.begin() as session:
        row = PlaygroundMessage(
            conversation_id=conversation_id,
            role="assistant",
            content=content,
            model_slug=model_slug,
            request_id=request_id,
            status=status,
            cost_nanos=cost_nanos,
            latency_ms=latency_ms,
        )
        session.add(row)
        await session.flush()
        return row.id


async def delete_conversation(sessions: SessionFactory, user_id: int, conversation_id: int) -> None:
    async with sessions.begin() as session:
        found = await session.scalar(
            select(PlaygroundConversation.id).where(
                PlaygroundConversation.id == conversation_id, PlaygroundConversation.user_id == user_id
            )
        )
        if found is None:
            raise NotFound("there is no such conversation")
        await session.execute(delete(PlaygroundMessage).where(PlaygroundMessage.conversation_id == found))
        await session.execute(delete(PlaygroundConversation).where(PlaygroundConversation.id == found))
