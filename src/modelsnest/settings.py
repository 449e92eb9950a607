"""Typed settings: the only module that reads the environment.

Every variable is prefixed ``MODELSNEST_`` (a ``.env`` file in the working directory is read
too) except the provider keys, which keep the names providers hand out: each registered
provider kind names its own variable (``NOVITA_API_KEY``, ``OPENAI_API_KEY``…, see
``providers.kinds``), and ``Settings.provider_keys`` holds the ones that are set.
"""

from __future__ import annotations

import os
import secrets
import socket
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from modelsnest.db.url import to_async_url
from modelsnest.money import usd_to_nanos
from modelsnest.providers.registry import ProviderRegistry, default_registry

# ``modelsnest serve``'s default address: links in e-mails when nothing better is known.
DEFAULT_SITE_URL = "http://127.0.0.1:8000"
_EVERY_INTERFACE = ("0.0.0.0", "::", "")


def listen_url(host: str, port: int) -> str:
    """The address a server listening on ``host:port`` is reached at (on every interface:
    this machine's name, since 0.0.0.0 is no address to link to)."""
    if host in _EVERY_INTERFACE:
        host = socket.getfqdn() or "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


class ProviderKeysSource(PydanticBaseSettingsSource):
    """``provider_keys`` from the variable each registered provider kind names, read from the
    environment first, then the ``.env`` file (blank values count as unset)."""

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        sources: tuple[PydanticBaseSettingsSource, ...],
        registry: ProviderRegistry,
    ) -> None:
        super().__init__(settings_cls)
        self._sources = [source for source in sources if isinstance(source, EnvSettingsSource)]
        self._registry = registry

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything happens in __call__

    def __call__(self) -> dict[str, Any]:
        keys: dict[str, str] = {}
        for kind, variable in self._registry.env_vars().items():
            for source in self._sources:
                value = source.env_vars.get(variable if source.case_sensitive else variable.lower())
                if value and value.strip():
                    keys[kind] = value.strip()
                    break
        return {"provider_keys": keys} if keys else {}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MODELSNEST_",
        env_file=".env",
        env_ignore_empty=True,
        extra="ignore",
    )

    environment: Literal["development", "production", "test"] = "development"
    var_dir: Path = Path("./var")
    database_url: str = ""
    redis_url: str | None = None
    secret_key: str | None = None
    simulator: bool | None = None
    # Public URL of this deployment, used in links we hand out (stored files); unset = the
    # address the request came to.
    public_url: str | None = None
    # Where ``modelsnest serve`` listens (it sets this for its workers): the base of links in
    # e-mails sent with no request to take an address from, when ``public_url`` is unset.
    listen_url: str | None = None
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    db_pool_size: int = 20
    # How long a hold may live before the sweeper settles or releases it.
    hold_ttl_seconds: int = 900
    cache_ttl_seconds: float = 5.0
    max_upload_bytes: int = 25 * 1024 * 1024
    # Largest JSON request body (room for base64 images); larger ones get 413 as they stream in.
    max_json_body_bytes: int = 16 * 1024 * 1024
    # Serve the paid API routes ahead of FastAPI's routing (api/lane.py); off only to compare.
    fast_lane: bool = True
    # Freeze the start-up objects and collect cycles less often (gc_tuning.py); off in tests,
    # whose one process builds hundreds of applications.
    gc_tuning: bool = True
    # GET /metrics (Prometheus text format). With a token, only ``Authorization: Bearer <token>``.
    metrics_enabled: bool = True
    metrics_token: str | None = Field(default=None, repr=False)
    redis_key_prefix: str = "modelsnest:"
    # Gateway limits and behaviour.
    user_concurrency_limit: int = 256
    default_max_output_tokens: int = 4096
    # After a client disconnects mid-stream, how long we keep reading the upstream for its usage.
    stream_drain_seconds: float = 5.0
    idempotency_ttl_seconds: int = 24 * 3600
    video_timeout_seconds: int = 1800
    video_poll_seconds: float = 2.0
    media_ttl_seconds: int = 24 * 3600
    circuit_failure_threshold: int = 5
    circuit_cooldown_seconds: float = 30.0
    # Accounts (web sign-up and sign-in).
    # Sign-up must confirm the e-mail address before keys can be created; unset = on in
    # production only.
    email_verification: bool | None = None
    # Admins must sign in with a second factor (an admin without one is sent to enrol).
    admin_require_2fa: bool = False
    # Credits granted once to every new sign-up (then near-duplicate addresses are refused).
    signup_bonus_usd: Decimal = Decimal(0)
    # A session ends after this long without a request, and after max days in any case.
    session_idle_hours: float = 72.0
    session_max_days: float = 30.0
    # Outgoing mail. No SMTP host: mails are written to $MODELSNEST_VAR_DIR/outbox/*.eml.
    smtp_host: str | None = None
    smtp_port: int | None = None  # unset: 465 with smtp_ssl, else 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    # None: STARTTLS when the server offers it; True: required; False: never.
    smtp_starttls: bool | None = None
    smtp_ssl: bool = False  # implicit TLS (port 465)
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "Modelsnest <no-reply@modelsnest.local>"

    # Provider kind → API key, for every registered kind whose variable (``NOVITA_API_KEY`` …)
    # is set; see ``ProviderKeysSource``. Never logged or shown.
    provider_keys: dict[str, str] = Field(default_factory=dict, repr=False)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        provider_keys = ProviderKeysSource(settings_cls, (env_settings, dotenv_settings), default_registry)
        return init_settings, provider_keys, env_settings, dotenv_settings, file_secret_settings

    # The operator, as the public site and legal pages name it (``content/`` substitutes these
    # into the Markdown). Unset optional facts read as neutral wording, never as an invention.
    company_name: str = "Modelsnest"
    company_legal_name: str | None = None
    company_address: str | None = None
    company_jurisdiction: str | None = None
    company_registration: str | None = None
    # Reserved .example addresses until the operator sets real ones (RFC 2606: never delivered).
    contact_email: str = "hello@modelsnest.example"
    support_email: str = "support@modelsnest.example"
    security_email: str = "security@modelsnest.example"
    privacy_email: str = "privacy@modelsnest.example"
    # Operator-edited Markdown that overrides or adds to the shipped pages (same layout).
    content_dir: Path | None = None

    @field_validator("signup_bonus_usd")
    @classmethod
    def _bonus(cls, value: Decimal) -> Decimal:
        if value < 0 or usd_to_nanos(value) != value * 10**9:
            raise ValueError("signup bonus must be a non-negative amount of USD with at most 9 decimals")
        return value

    # Payments: top-up bounds, providers (each offered only when its keys are set), the
    # reconciler and auto-recharge loops, and the seller printed on invoices.
    topup_min_usd: Decimal = Decimal("5")
    topup_max_usd: Decimal = Decimal("10000")
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str = "https://api.stripe.com"
    paypal_client_id: str | None = None
    paypal_client_secret: str | None = None
    paypal_webhook_id: str | None = None
    paypal_api_base: str = "https://api-m.sandbox.paypal.com"
    coinbase_api_key_id: str | None = None
    coinbase_api_key_secret: str | None = None
    coinbase_webhook_secret: str | None = None
    coinbase_api_base: str = "https://business.coinbase.com"
    payments_timeout_seconds: float = 20.0
    webhook_tolerance_seconds: int = 300
    payments_reconcile_seconds: float = 300.0
    payments_reconcile_after_seconds: int = 900
    auto_recharge_check_seconds: float = 15.0
    company_tax_id: str | None = None
    company_email: str | None = None

    @field_validator("database_url")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("provider_keys")
    @classmethod
    def _known_kinds(cls, keys: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(keys) - set(default_registry.kinds()))
        if unknown:
            raise ValueError(f"no provider kind is registered as {', '.join(unknown)}")
        return {kind: key.strip() for kind, key in keys.items() if key.strip()}

    @property
    def simulator_enabled(self) -> bool:
        """The simulator is on by default everywhere but production."""
        if self.simulator is None:
            return self.environment != "production"
        return self.simulator

    @property
    def email_verification_required(self) -> bool:
        if self.email_verification is None:
            return self.environment == "production"
        return self.email_verification

    @property
    def signup_bonus_nanos(self) -> int:
        return usd_to_nanos(self.signup_bonus_usd)

    @property
    def resolved_smtp_port(self) -> int:
        return self.smtp_port or (465 if self.smtp_ssl else 587)

    @property
    def dev_pages_enabled(self) -> bool:
        """The component gallery and the outbox viewer: never in production."""
        return self.environment != "production"

    @property
    def site_url(self) -> str:
        """The absolute base of links in e-mails sent outside a request (notification copies):
        ``MODELSNEST_PUBLIC_URL``, else the address ``serve`` listens on, else the default one."""
        return (self.public_url or self.listen_url or DEFAULT_SITE_URL).rstrip("/")

    @cached_property
    def async_database_url(self) -> str:
        url = self.database_url or f"sqlite:///{(self.var_dir / 'modelsnest.db').as_posix()}"
        return to_async_url(url)

    @property
    def is_sqlite(self) -> bool:
        return self.async_database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The configured secret, else one generated once and kept in ``var/secret_key``."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # Created 0600 and exclusively, so it is never world-readable and two processes
        # starting together agree on one key.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        try:
            handle = os.open(path, flags, 0o600)
        except FileExistsError:  # another process won the race
            return path.read_text().strip()
        with os.fdopen(handle, "w") as out:
            out.write(key)
        return key


def get_settings() -> Settings:
    return Settings()
