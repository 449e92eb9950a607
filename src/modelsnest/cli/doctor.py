"""``modelsnest doctor``: one line per check of the configuration; exit 1 if any check fails.

Statuses: ``ok``, ``FAIL``, and ``--`` for optional parts that are not configured.
"""

from __future__ import annotations

import asyncio
import stat
from dataclasses import dataclass
from typing import Literal

import typer
from sqlalchemy.engine import make_url

from modelsnest.catalog.providers import ProviderView, list_providers
from modelsnest.cli.core import connect, describe, load_settings, one_line, redact, shown_database
from modelsnest.db.base import utcnow
from modelsnest.db.migrate import current_revision, head_revision
from modelsnest.providers.registry import default_registry
from modelsnest.runtime import Runtime
from modelsnest.settings import Settings

Status = Literal["ok", "FAIL", "--"]
MIN_SECRET_KEY_LENGTH = 32


@dataclass(frozen=True)
class Check:
    status: Status
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name:<13} {redact(one_line(self.detail))}"


def doctor() -> None:
    """Check the configuration: database, migrations, Redis, secret key, providers, e-mail, payments."""
    checks = asyncio.run(run_checks(load_settings()))
    for check in checks:
        typer.echo(check.line())
    failed = sum(check.status == "FAIL" for check in checks)
    if failed:
        typer.echo(f"{failed} check(s) failed", err=True)
        raise typer.Exit(1)


async def run_checks(settings: Settings) -> list[Check]:
    checks, providers = await _database_checks(settings)
    checks.append(await _redis(settings))
    checks.append(_secret_key(settings))
    checks.append(
        Check(
            "ok",
            "simulator",
            "enabled (offline answers for every model)" if settings.simulator_enabled else "disabled",
        )
    )
    checks.append(_provider_keys(settings, providers))
    if providers is not None:
        checks.append(_providers(providers))
    checks.append(_smtp(settings))
    checks.extend(await _payments(settings))
    return checks


def _smtp(settings: Settings) -> Check:
    if not settings.smtp_host:
        outbox = settings.var_dir / "outbox"
        return Check("--", "smtp", f"not configured (account mails are written to {outbox} instead of sent)")
    security = (
        "TLS"
        if settings.smtp_ssl
        else {True: "STARTTLS", False: "plain", None: "STARTTLS if offered"}[settings.smtp_starttls]
    )
    return Check(
        "ok",
        "smtp",
        f"{settings.smtp_host}:{settings.resolved_smtp_port} ({security}), from {settings.mail_from}",
    )


async def _payments(settings: Settings) -> list[Check]:
    """Each configured provider: credentials (a call to its API), webhook secret, return URLs."""
    from modelsnest.payments import Payments

    runtime = Runtime.create(settings)
    payments = Payments.from_settings(settings, runtime.sessions)
    try:
        return [Check(c.status, c.name, c.detail) for c in await payments.checks()]  # type: ignore[arg-type]
    except Exception as exc:
        return [Check("FAIL", "payments", describe(exc))]
    finally:
        await payments.close()
        await runtime.close()


async def _database_checks(settings: Settings) -> tuple[list[Check], list[ProviderView] | None]:
    """Database and migrations, and the providers table when both are fine."""
    runtime = Runtime.create(settings)
    try:
        try:
            await connect(runtime, check_schema=False)
        except Exception as exc:
            unknown = Check("FAIL", "migrations", "unknown: the database is unreachable")
            return [Check("FAIL", "database", describe(exc)), unknown], None
        database = Check("ok", "database", f"reachable: {shown_database(settings)}")
        current, head = await current_revision(runtime.engine), head_revision()
        if current != head:
            detail = f"at {current or 'nothing'}, code expects {head}: run `modelsnest migrate`"
            return [database, Check("FAIL", "migrations", detail)], None
        providers = await list_providers(runtime.sessions)
        return [database, Check("ok", "migrations", f"at head ({head})")], providers
    finally:
        await runtime.close()


async def _redis(settings: Settings) -> Check:
    if not settings.redis_url:
        return Check("ok", "redis", "not configured (in-process caches and rate limits)")
    import redis.asyncio as redis

    shown = (
        make_url(settings.redis_url).render_as_string(hide_password=True)
        if "://" in settings.redis_url
        else "?"
    )
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
        return Check("ok", "redis", f"reachable: {shown}")
    except Exception as exc:
        return Check("FAIL", "redis", f"unreachable: {shown}: {type(exc).__name__}: {exc}")
    finally:
        await client.aclose()


def _secret_key(settings: Settings) -> Check:
    if settings.secret_key:
        if len(settings.secret_key) < MIN_SECRET_KEY_LENGTH:
            return Check(
                "FAIL",
                "secret key",
                f"MODELSNEST_SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters",
            )
        return Check("ok", "secret key", "set by MODELSNEST_SECRET_KEY")
    if settings.environment == "production":
        return Check(
            "FAIL", "secret key", "set MODELSNEST_SECRET_KEY in production: every replica must share one key"
        )
    path = settings.var_dir / "secret_key"
    if not path.exists():
        return Check("ok", "secret key", f"not set: one will be generated in {path} on first start")
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return Check("FAIL", "secret key", f"{path} is readable by other users: chmod 600 it")
    return Check("ok", "secret key", f"generated, kept in {path} (mode 600)")


def _provider_keys(settings: Settings, providers: list[ProviderView] | None) -> Check:
    variables = default_registry.env_vars()  # kind → NOVITA_API_KEY …, plugins included
    present = [env for kind, env in variables.items() if settings.provider_keys.get(kind)]
    missing = [env for env in variables.values() if env not in present]
    parts = [
        f"{', '.join(present)} set" if present else "",
        f"{', '.join(missing)} not set" if missing else "",
    ]
    detail = "; ".join(part for part in parts if part)
    upstreams = [p for p in providers or [] if p.enabled and p.kind != "simulator" and _can_answer(p)]
    if not present and not upstreams and not settings.simulator_enabled:
        return Check(
            "FAIL", "provider keys", f"{detail}: with the simulator off, nothing can answer requests"
        )
    return Check("ok", "provider keys", detail)


def _can_answer(provider: ProviderView) -> bool:
    """Has the key its kind needs (a keyless self-hosted kind needs none)."""
    kind = default_registry.get(provider.kind)
    return kind is not None and (provider.has_api_key or not kind.requires_api_key)


def _providers(providers: list[ProviderView]) -> Check:
    if not providers:
        return Check("--", "providers", "none yet: run `modelsnest seed`")
    now = utcnow()
    enabled = [p.name for p in providers if p.enabled]
    tripped = [p.name for p in providers if p.circuit_open_until is not None and p.circuit_open_until > now]
    unknown = [p.name for p in providers if p.enabled and p.kind not in default_registry]
    keyless = [p.name for p in providers if p.enabled and p.kind in default_registry and not _can_answer(p)]
    detail = f"{len(enabled)} enabled ({', '.join(enabled) or 'none'})"
    if tripped:
        detail += f"; circuit open: {', '.join(tripped)} (see `modelsnest providers list`)"
    if keyless:
        detail += f"; no API key: {', '.join(keyless)}"
    if unknown:
        detail += f"; unknown kind (plugin not installed?): {', '.join(unknown)}"
        return Check("FAIL", "providers", detail)
    return Check("ok", "providers", detail)
