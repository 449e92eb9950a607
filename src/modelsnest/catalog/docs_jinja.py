"""The Jinja2 sandbox model docs are written in.

Operators will edit the stored docs rows from the admin panel, so a row is untrusted template
source. It renders in a ``SandboxedEnvironment`` (no escaping: the text is code and plain
prose, HTML-escaped later by whoever puts it in a page; ``StrictUndefined``: an unknown
placeholder is an error, never an empty string), tightened for this one job:

* only output, ``{% if %}``, names, literals, calls, filters, tests and arithmetic on numbers:
  no loops, macros, includes, assignments, attribute or item access (so no ``__class__``
  walk out of the sandbox, and no way to build huge output from a short template);
* no globals (``range``, ``lipsum``, ``cycler`` …) and a short list of filters;
* sources up to 64 KiB, results up to 256 KiB.

Everything that goes wrong is a ``DocsTemplateError`` naming the row, never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, Final

from jinja2 import StrictUndefined, Template, TemplateError, nodes
from jinja2.exceptions import SecurityError
from jinja2.filters import do_capitalize, do_default, do_indent, do_lower, do_title, do_trim, do_upper
from jinja2.sandbox import SandboxedEnvironment

from modelsnest.errors import DocsTemplateError

__all__ = ["MAX_OUTPUT_CHARS", "MAX_SOURCE_CHARS", "DocsSandbox", "escape_jinja", "render_docs_template"]

MAX_SOURCE_CHARS: Final = 64 * 1024
MAX_OUTPUT_CHARS: Final = 256 * 1024
_MAX_INDENT: Final = 16

_ALLOWED_NODES: Final = frozenset(
    {
        nodes.Template,
        nodes.Output,
        nodes.TemplateData,
        nodes.If,
        nodes.Name,
        nodes.Const,
        nodes.List,
        nodes.Tuple,
        nodes.Call,
        nodes.Keyword,
        nodes.Filter,
        nodes.Test,
        nodes.CondExpr,
        nodes.Concat,
        nodes.Compare,
        nodes.Operand,
        nodes.And,
        nodes.Or,
        nodes.Not,
        nodes.Neg,
        nodes.Pos,
        nodes.Add,
        nodes.Sub,
        nodes.Mul,
        nodes.Div,
        nodes.FloorDiv,
        nodes.Mod,
    }
)
_JINJA_OPENERS = re.compile(r"\{[{%#]")


def _indent(text: str, width: int = 4, first: bool = False, blank: bool = False) -> str:
    if isinstance(width, bool) or not isinstance(width, int) or not 0 <= width <= _MAX_INDENT:
        raise SecurityError(f"indent takes a width of 0 to {_MAX_INDENT} spaces")
    return do_indent(text, width, first, blank)


_FILTERS: Final[Mapping[str, Callable[..., Any]]] = {
    "indent": _indent,
    "default": do_default,
    "lower": do_lower,
    "upper": do_upper,
    "title": do_title,
    "capitalize": do_capitalize,
    "trim": do_trim,
}


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class DocsSandbox(SandboxedEnvironment):
    """``SandboxedEnvironment`` with the restrictions of the module docstring."""

    # ``*`` and ``%`` would repeat or format strings into any size; numbers only.
    intercepted_binops = frozenset({"*", "%"})

    def __init__(self, finalize: Callable[[Any], Any] | None = None) -> None:
        super().__init__(
            autoescape=False,
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            finalize=finalize,
        )
        self.globals.clear()
        self.filters = dict(_FILTERS)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return False

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if not (_number(left) and _number(right)):
            raise SecurityError(f"{operator!r} works on numbers only in docs templates")
        return super().call_binop(context, operator, left, right)


def _check_nodes(node: nodes.Node) -> None:
    if type(node) not in _ALLOWED_NODES:
        raise SecurityError(f"{type(node).__name__} is not allowed in docs templates")
    for child in node.iter_child_nodes():
        _check_nodes(child)


class _Problem(Exception):
    """Why a template cannot be compiled or rendered (given a place by ``render_docs_template``)."""


def render_docs_template(env: DocsSandbox, source: str, context: Mapping[str, Any], where: str) -> str:
    """``source`` rendered in ``env`` with ``context``; any failure — a syntax error, an unknown
    placeholder, anything the sandbox refuses — is a ``DocsTemplateError`` "``where``: reason"."""
    try:
        return _render(_compile(env, source), context)
    except _Problem as exc:
        raise DocsTemplateError(f"{where}: {exc}", code="INVALID_DOCS_TEMPLATE") from None


@lru_cache(maxsize=4096)
def _compile(env: DocsSandbox, source: str) -> Template:
    if len(source) > MAX_SOURCE_CHARS:
        raise _Problem(f"the template is longer than {MAX_SOURCE_CHARS} characters")
    try:
        _check_nodes(env.parse(source))
        return env.from_string(source)
    except TemplateError as exc:
        raise _Problem(_reason(exc)) from None


def _reason(exc: TemplateError) -> str:
    line = getattr(exc, "lineno", None)
    where = f" (line {line})" if line else ""
    return f"{exc.message or type(exc).__name__}{where}"


def _render(template: Template, context: Mapping[str, Any]) -> str:
    try:
        text = template.render(context)
    except TemplateError as exc:
        raise _Problem(_reason(exc)) from None
    except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
        raise _Problem(f"{type(exc).__name__}: {exc}") from None
    if len(text) > MAX_OUTPUT_CHARS:
        raise _Problem(f"the template renders to more than {MAX_OUTPUT_CHARS} characters")
    return text


def escape_jinja(text: str) -> str:
    """Jinja source that renders to exactly ``text`` (its ``{{``, ``{%`` and ``{#`` quoted)."""
    return _JINJA_OPENERS.sub(lambda match: "{{ '" + match.group() + "' }}", text)
