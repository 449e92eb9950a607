"""Typed settings: the only module that reads the environment.

Every variable is prefixed ``MODELSNEST_`` (a ``.env`` file in the working directory is read
too) except the provider keys, which keep the names providers hand out (``NOVITA_API_KEY``…).
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from modelsnest.db.url import to_async_url


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
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    db_pool_size: int = 20
    # How long a hold may live before the sweeper settles or releases it.
    hold_ttl_seconds: int = 900
    cache_ttl_seconds: float = 5.0
    max_upload_bytes: int = 25 * 1024 * 1024
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

    novita_api_key: str | None = Field(default=None, validation_alias=AliasChoices("NOVITA_API_KEY"))
    openai_api_key: str | None = Field(default=None, validation_alias=AliasChoices("OPENAI_API_KEY"))
    anthropic_api_key: str | None = Field(default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY"))
    elevenlabs_api_key: str | None = Field(default=None, validation_alias=AliasChoices("ELEVENLABS_API_KEY"))

    @field_validator("database_url")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @property
    def simulator_enabled(self) -> bool:
        """The simulator is on by default everywhere but production."""
        if self.simulator is None:
            return self.environment != "production"
        return self.simulator

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
