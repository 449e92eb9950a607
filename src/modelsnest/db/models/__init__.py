"""Every table, imported in one place so Alembic and ``Base.metadata`` see them all."""

from modelsnest.db.models.accounts import EmailVerificationToken, RecoveryCode, UserTwoFactor
from modelsnest.db.models.admin import AdminAudit
from modelsnest.db.models.api_tokens import ApiToken
from modelsnest.db.models.billing import CreditHold, CreditTransaction, UserCredits
from modelsnest.db.models.catalog import (
    PRICE_DIMENSIONS,
    PRICE_UNITS,
    AiModel,
    AiModelCategory,
    AiModelDoc,
    AiModelDocExample,
    AiModelDocParameter,
    AiModelDocStep,
    AiModelFeature,
    AiModelPriceComponent,
    AiModelPricing,
)
from modelsnest.db.models.contact import ContactMessage
from modelsnest.db.models.health import (
    HealthRollupState,
    ProviderHealthHourly,
    UsageHealthHourly,
    UsageLatencyHourly,
)
from modelsnest.db.models.idempotency import IdempotencyRecord
from modelsnest.db.models.media import StoredFile, VideoJob
from modelsnest.db.models.notifications import Notification, NotificationOnce, NotificationPreference
from modelsnest.db.models.payments import AutoRecharge, Invoice, InvoiceCounter, Payment, PaymentEvent
from modelsnest.db.models.playground import PlaygroundConversation, PlaygroundMessage
from modelsnest.db.models.providers import ModelRoute, Provider
from modelsnest.db.models.responses import StoredResponse
from modelsnest.db.models.store import StoreProduct
from modelsnest.db.models.usage import UsageDaily, UsageLog
from modelsnest.db.models.users import PasswordResetToken, Session, User

__all__ = [
    "PRICE_DIMENSIONS",
    "PRICE_UNITS",
    "AdminAudit",
    "AiModel",
    "AiModelCategory",
    "AiModelDoc",
    "AiModelDocExample",
    "AiModelDocParameter",
    "AiModelDocStep",
    "AiModelFeature",
    "AiModelPriceComponent",
    "AiModelPricing",
    "ApiToken",
    "AutoRecharge",
    "ContactMessage",
    "CreditHold",
    "CreditTransaction",
    "EmailVerificationToken",
    "HealthRollupState",
    "IdempotencyRecord",
    "Invoice",
    "InvoiceCounter",
    "ModelRoute",
    "Notification",
    "NotificationOnce",
    "NotificationPreference",
    "PasswordResetToken",
    "Payment",
    "PaymentEvent",
    "PlaygroundConversation",
    "PlaygroundMessage",
    "Provider",
    "ProviderHealthHourly",
    "RecoveryCode",
    "Session",
    "StoreProduct",
    "StoredFile",
    "StoredResponse",
    "UsageDaily",
    "UsageHealthHourly",
    "UsageLatencyHourly",
    "UsageLog",
    "User",
    "UserCredits",
    "UserTwoFactor",
    "VideoJob",
]
