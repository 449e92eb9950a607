"""Reading a submitted form and carrying its values and errors back into the page.

A page re-rendered after an error shows what was typed (never a password) and, next to
each field, the message of the domain error that names it (``InvalidRequest(param=…)``);
an error naming no field is shown above the form (key ``"_form"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from modelsnest.errors import ModelsnestError

FORM_ERROR = "_form"
# Never sent back into a page, whatever happens.
SECRET_FIELDS = frozenset({"password", "current_password", "new_password", "code", "csrf_token"})
MAX_FIELD_LENGTH = 10_000


@dataclass
class Form:
    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def read(cls, request: Request) -> Form:
        data = await request.form()
        form = cls()
        for key, value in data.multi_items():
            if not isinstance(value, str):
                continue  # file uploads are not form fields of these pages
            value = value[:MAX_FIELD_LENGTH]
            form.lists.setdefault(key, []).append(value)
            form.values.setdefault(key, value)
        return form

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def getlist(self, name: str) -> list[str]:
        return self.lists.get(name, [])

    def checked(self, name: str) -> bool:
        return self.values.get(name, "").lower() in ("on", "true", "1", "yes")

    def fail(self, name: str, message: str) -> Form:
        self.errors[name] = message
        return self

    def fail_with(
        self, error: ModelsnestError, *, fields: tuple[str, ...] = (), rename: dict[str, str] | None = None
    ) -> Form:
        """Attach a domain error to the field it names (when that field is on this form)."""
        param = (rename or {}).get(error.param or "", error.param)
        self.errors[param if param and (not fields or param in fields) else FORM_ERROR] = error.message
        return self

    @property
    def ok(self) -> bool:
        return not self.errors

    def shown(self) -> dict[str, str]:
        """The values to put back into the page."""
        return {k: v for k, v in self.values.items() if k not in SECRET_FIELDS}
