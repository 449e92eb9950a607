"""The audit log is append-only: no module of the product updates or deletes its rows, and a
row records who acted, on what, from where."""

from __future__ import annotations

import re
from pathlib import Path

import modelsnest

PACKAGE = Path(modelsnest.__file__).parent


def test_no_code_path_updates_or_deletes_an_audit_row() -> None:
    writes = re.compile(
        r"(update|delete)\(\s*AdminAudit|admin_audit\b.*\b(UPDATE|DELETE)\b|\b(UPDATE|DELETE FROM)\s+admin_audit"
    )
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        if "AdminAudit" not in text and "admin_audit" not in text:
            continue
        if "migrations" in path.parts:
            continue
        if writes.search(text) or ("AdminAudit" in text and re.search(r"session\.delete\(", text)):
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []
