"""Plain-text output: aligned tables and short timestamps, pipe- and grep-friendly."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import typer

from modelsnest.money import format_usd


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, empty: str = "(none)") -> None:
    if not rows:
        typer.echo(empty)
        return
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        typer.echo("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip())


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "-"


def usd(nanos: int | None) -> str:
    return format_usd(nanos) if nanos is not None else "-"


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return when(value)
    return " ".join(str(value).split())
