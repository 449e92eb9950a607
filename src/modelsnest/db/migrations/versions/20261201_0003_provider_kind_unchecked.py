"""providers.kind is validated against the provider registry, not a CHECK

The kinds a ``providers`` row may have are the registered ``ProviderKind`` names (built-ins
and plugins), checked by the service layer when an operator adds a provider; a database
constraint listing them would need a migration for every plugin.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The kinds the constraint allowed before; a downgrade fails while rows of other kinds exist.
_BUILTIN_KINDS = "kind IN ('openai', 'anthropic', 'simulator', 'novita', 'elevenlabs')"


def upgrade() -> None:
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_providers_kind"), type_="check")


def downgrade() -> None:
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_providers_kind"), _BUILTIN_KINDS)
