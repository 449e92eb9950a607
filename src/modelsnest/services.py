"""``Services``: every long-lived object of one server process, typed, built once in the app's
lifespan (``app.build_services``) and reached from routes through ``api/deps.py``. Nothing
here is module-global, and nothing here starts work: background loops are listed in
``background.py`` and started by the lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from modelsnest.auth.accounts import Accounts
from modelsnest.auth.key_verifier import ApiKeyVerifier
from modelsnest.catalog.listing import ModelDirectory
from modelsnest.contact import ContactDesk
from modelsnest.content import ContentLibrary
from modelsnest.db.engine import SessionFactory
from modelsnest.gateway.service import Gateway
from modelsnest.health import StatusBoard
from modelsnest.mail import Mailer
from modelsnest.notifications.alerts import AlertWatcher
from modelsnest.payments import Payments
from modelsnest.settings import Settings
from modelsnest.store import Store
from modelsnest.tasks import TaskSet
from modelsnest.web.templating import Pages


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    redis: Any | None  # redis.asyncio.Redis when MODELSNEST_REDIS_URL is set
    keys: ApiKeyVerifier
    gateway: Gateway
    tasks: TaskSet
    accounts: Accounts
    mailer: Mailer
    pages: Pages
    payments: Payments
    # The public site: its Markdown, the model directory, the status report, the contact form.
    content: ContentLibrary
    directory: ModelDirectory
    status: StatusBoard
    contact: ContactDesk
    # Automatic notifications (low balance, keys expiring, e-mail copies): the dashboard's.
    alerts: AlertWatcher
    # The API Store: products sold per call (``modelsnest.store``).
    store: Store
