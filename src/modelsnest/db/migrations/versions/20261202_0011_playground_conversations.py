"""playground: conversations and their messages

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 03:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "playground_conversations",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("model_slug", sa.String(length=120), nullable=False),
        sa.Column("system_prompt", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_playground_conversations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playground_conversations")),
    )
    with op.batch_alter_table("playground_conversations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_playground_conversations_user_updated", ["user_id", "updated_at"], unique=False
        )

    op.create_table(
        "playground_messages",
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("model_slug", sa.String(length=120), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("cost_nanos", sa.BigInteger(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["playground_conversations.id"],
            name=op.f("fk_playground_messages_conversation_id_playground_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playground_messages")),
    )
    with op.batch_alter_table("playground_messages", schema=None) as batch_op:
        batch_op.create_index("ix_playground_messages_conversation", ["conversation_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("playground_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_playground_messages_conversation")
    op.drop_table("playground_messages")
    with op.batch_alter_table("playground_conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_playground_conversations_user_updated")
    op.drop_table("playground_conversations")
