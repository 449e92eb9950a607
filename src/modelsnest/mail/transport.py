"""Where messages go: an SMTP server, or the outbox folder (the embedded default)."""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Protocol

import aiosmtplib


class Transport(Protocol):
    async def deliver(self, message: EmailMessage) -> None: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class SmtpTransport:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool | None = None  # None: when the server offers it
    ssl: bool = False
    timeout: float = 10.0

    async def deliver(self, message: EmailMessage) -> None:
        await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.ssl,
            start_tls=None if self.ssl else self.starttls,
            timeout=self.timeout,
        )

    def describe(self) -> str:
        security = (
            "TLS"
            if self.ssl
            else {True: "STARTTLS", False: "plain", None: "STARTTLS if offered"}[self.starttls]
        )
        return f"SMTP {self.host}:{self.port} ({security})"


@dataclass(frozen=True)
class OutboxEntry:
    name: str
    sender: str
    to: str
    subject: str
    date: datetime
    text: str
    html: str | None


class OutboxTransport:
    """Writes each message to ``directory/<time>-<id>.eml`` (readable by any mail program)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def deliver(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._write, message.as_bytes(policy=policy.SMTP))

    def _write(self, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.directory / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)  # a reader never sees half a message

    def describe(self) -> str:
        return f"outbox folder {self.directory}"

    def entries(self, limit: int = 100) -> list[OutboxEntry]:
        """The newest messages first."""
        if not self.directory.is_dir():
            return []
        paths = sorted(self.directory.glob("*.eml"), reverse=True)[:limit]
        return [self._read(path) for path in paths]

    def entry(self, name: str) -> OutboxEntry | None:
        path = self.directory / name
        if "/" in name or "\\" in name or not name.endswith(".eml") or not path.is_file():
            return None
        return self._read(path)

    @staticmethod
    def _read(path: Path) -> OutboxEntry:
        with path.open("rb") as handle:
            message = BytesParser(policy=policy.default).parse(handle)
        assert isinstance(message, EmailMessage)
        text_part = message.get_body(preferencelist=("plain",))
        html_part = message.get_body(preferencelist=("html",))
        date = message["Date"].datetime if message["Date"] is not None else None
        if date is not None and date.tzinfo is None:  # "-0000": UTC, its zone unstated
            date = date.replace(tzinfo=UTC)
        return OutboxEntry(
            name=path.name,
            sender=str(message["From"] or ""),
            to=str(message["To"] or ""),
            subject=str(message["Subject"] or ""),
            date=date or datetime.fromtimestamp(path.stat().st_mtime, UTC),
            text=text_part.get_content() if text_part is not None else "",
            html=html_part.get_content() if html_part is not None else None,
        )
