"""What every command shares: the one error handler, settings, and running async services.

Every failure ends as ONE line on stderr (``error: …``) and exit code 1, whether it is bad
input, a domain error from a service, a configuration problem, an unreachable database or a
bug: ``OneLineErrors.main`` is the single place that turns exceptions into that line.
"""

from __future__ import annotations

import asyncio
import getpass
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NoReturn, TypeVar

import pydantic
import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from typer.core import TyperGroup

from modelsnest.db.migrate import SchemaNotCurrent, check_schema_current
from modelsnest.db.url import UnsupportedDatabaseURL
from modelsnest.errors import ModelsnestError
from modelsnest.money import InvalidAmount, usd_to_nanos
from modelsnest.runtime import Runtime
from modelsnest.settings import Settings, get_settings

T = TypeVar("T")

# user:password@ inside any URL that ends up in a message.
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]*:[^/@\s]*@")


class CliError(Exception):
    """A command-line failure with a message ready for the user (one line)."""


class OneLineErrors(TyperGroup):
    """The root group: runs the command and maps any exception to ``error: <one line>``, exit 1."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            result = super().main(
                args,
                prog_name,
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
        except typer.Abort:
            fail("aborted", code=130)
        except KeyboardInterrupt:
            fail("interrupted", code=130)
        except Exception as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # `modelsnest users`: help was printed
                sys.exit(0)
            fail(_usage_line(exc) if _is_usage_error(exc) else describe(exc))
        # With standalone_mode=False click returns typer.Exit's code (help, explicit exits).
        sys.exit(result if isinstance(result, int) else 0)


def fail(message: str, *, code: int = 1) -> NoReturn:
    typer.echo(f"error: {redact(one_line(message))}", err=True)
    sys.exit(code)


def describe(exc: BaseException) -> str:
    """The user-facing line for an exception (never a traceback, never a secret)."""
    if isinstance(exc, ModelsnestError):
        return exc.message
    if isinstance(exc, InvalidAmount):
        return f"invalid amount: {exc} (write dollars like 12.50)"
    if isinstance(exc, UnsupportedDatabaseURL):
        return f"MODELSNEST_DATABASE_URL: {exc}"
    if isinstance(exc, (SchemaNotCurrent, CliError)):
        return str(exc)
    if isinstance(exc, pydantic.ValidationError):
        return _config_line(exc)
    if isinstance(exc, DBAPIError):
        return f"database error: {str(exc.orig).strip() or type(exc.orig).__name__}"
    if isinstance(exc, SQLAlchemyError):
        return f"database error: {exc}"
    if isinstance(exc, (OSError, TimeoutError)):
        return f"{type(exc).__name__}: {exc}"
    return f"unexpected {type(exc).__name__}: {exc}"


def one_line(text: str) -> str:
    return " ".join(text.split()) or "failed"


def redact(text: str) -> str:
    return _URL_CREDENTIALS.sub("***@", text)


def _is_usage_error(exc: Exception) -> bool:
    """Bad option, missing argument, bad value: click's exceptions (vendored by newer Typer)."""
    return isinstance(exc, typer.TyperException) or type(exc).__module__.startswith("click.")


def _usage_line(exc: Exception) -> str:
    message = str(getattr(exc, "format_message", exc.__str__)())
    command_path = getattr(getattr(exc, "ctx", None), "command_path", None)
    return f"{message} (see `{command_path} --help`)" if command_path else message


def _config_line(exc: pydantic.ValidationError) -> str:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first.get("loc", ()))
    name = field.upper() if field.endswith("_API_KEY") else f"MODELSNEST_{field.upper()}"
    return f"invalid configuration: {name}: {first.get('msg', 'invalid value')}"


def load_settings() -> Settings:
    settings = get_settings()
    settings.async_database_url  # noqa: B018  (raises UnsupportedDatabaseURL early)
    return settings


def shown_database(settings: Settings) -> str:
    """The database URL with any password hidden."""
    return make_url(settings.async_database_url).render_as_string(hide_password=True)


def actor() -> str:
    """Who the ledger and audit fields say did it: the operating-system user at the CLI."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli"


def parse_usd(text: str) -> int:
    """A positive dollar amount ('12.50', '$3') in nanos; InvalidAmount otherwise."""
    cleaned = text.strip().removeprefix("$").strip()
    nanos = usd_to_nanos(cleaned)
    if nanos <= 0:
        raise InvalidAmount(f"{text!r} is not more than zero")
    return nanos


def run(work: Callable[[Runtime], Awaitable[T]], *, check_schema: bool = True) -> T:
    """Build the runtime from settings, make sure the database answers and is migrated, run
    ``work`` on an event loop, and dispose of the engine whatever happens."""
    settings = load_settings()

    async def main() -> T:
        runtime = Runtime.create(settings)
        try:
            await connect(runtime, check_schema=check_schema)
            return await work(runtime)
        finally:
            await runtime.close()

    return asyncio.run(main())


async def connect(runtime: Runtime, *, check_schema: bool = True) -> None:
    """Fail with one clear line when the database cannot be reached or is not migrated."""
    try:
        if check_schema:
            await check_schema_current(runtime.engine)
        else:
            async with runtime.engine.connect():
                pass
    except SchemaNotCurrent:
        raise
    except Exception as exc:
        reason = describe(exc).removeprefix("database error: ")
        raise CliError(f"cannot reach the database {shown_database(runtime.settings)}: {reason}") from exc
