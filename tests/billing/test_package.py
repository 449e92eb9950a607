"""The package's public surface is exactly what ``__all__`` lists."""

from __future__ import annotations

import inspect

from modelsnest import billing


def test_everything_public_is_exported_and_documented() -> None:
    exported = {
        name
        for name in dir(billing)
        if not name.startswith("_") and not inspect.ismodule(getattr(billing, name))
    }
    assert set(billing.__all__) == exported
    assert billing.__doc__ and "balance = Σ ledger rows" in billing.__doc__
