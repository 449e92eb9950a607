"""Every table, imported in one place so Alembic and ``Base.metadata`` see them all."""

from modelsnest.db.models.api_tokens import ApiToken
from modelsnest.db.models.billing import CreditHold, CreditTransaction, UserCredits
from modelsnest.db.models.catalog import (
    PRICE_UNITS,
    AiModel,
    AiModelCategory,
    AiModelDoc,
    AiModelDocExample,
    AiModelDocParameter,
    AiModelDocStep,
    AiModelFeature,
    AiModelPricing,
)
from modelsnest.db.models.idempotency import IdempotencyRecord
from modelsnest.db.models.media import StoredFile, VideoJob
from modelsnest.db.models.payments import Payment
from modelsnest.db.models.providers import ModelRoute, Provider
from modelsnest.db.models.usage import UsageDaily, UsageLog
from modelsnest.db.models.users import PasswordResetToken, Session, User

__all__ = [
    "PRICE_UNITS",
    "AiModel",
    "AiModelCategory",
    "AiModelDoc",
    "AiModelDocExample",
    "AiModelDocParameter",
    "AiModelDocStep",
    "AiModelFeature",
    "AiModelPricing",
    "ApiToken",
    "CreditHold",
    "CreditTransaction",
    "IdempotencyRecord",
    "ModelRoute",
    "PasswordResetToken",
    "Payment",
    "Provider",
    "Session",
    "StoredFile",
    "UsageDaily",
    "UsageLog",
    "User",
    "UserCredits",
    "VideoJob",
]
