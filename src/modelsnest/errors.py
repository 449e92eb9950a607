"""The domain error tree, and the one table that says what each kind of error means to a
client. Raised by services; rendered by ``api/errors.py`` (HTTP, SSE, HTML pages) and by
``cli`` (one line). No HTTP imports here: a status is just a number in the table.

* ModelsnestError                       status  type                   default code
  + AuthError                             401   authentication_error   INVALID_TOKEN / MISSING_AUTH_HEADER
  + PermissionDenied                      403   permission_error       FORBIDDEN
  + NotFound                              404   invalid_request_error  NOT_FOUND
  + MethodNotAllowed                      405   invalid_request_error  METHOD_NOT_ALLOWED
  + InvalidRequest                        400   invalid_request_error  INVALID_REQUEST (MISSING_MODEL, …)
    - ModelError                          400   invalid_request_error  MODEL_NOT_FOUND / MODEL_UNAVAILABLE
    - UpstreamRejected                    400   invalid_request_error  UPSTREAM_BAD_REQUEST
  + PayloadTooLarge                       413   invalid_request_error  PAYLOAD_TOO_LARGE
  + UnsupportedMediaType                  415   invalid_request_error  UNSUPPORTED_MEDIA_TYPE
  + Conflict                              409   invalid_request_error  CONFLICT / IDEMPOTENCY_KEY_REUSED
  + InsufficientCredits                   402   insufficient_quota     INSUFFICIENT_CREDITS
  + RateLimited                           429   rate_limit_error       RATE_LIMITED (carries retry_after)
  + PricingError                          500   server_error           PRICING_MISSING / INVALID_PRICING
  + DocsTemplateError                     422   invalid_request_error  INVALID_DOCS_TEMPLATE (a model docs row)
  + UsageTransactionFailed                500   server_error           USAGE_TRANSACTION_FAILED
  + UpstreamError                         502   upstream_error         UPSTREAM_ERROR
    - UpstreamTimeout                     504   upstream_error         UPSTREAM_TIMEOUT
    - UpstreamOverloaded                  502   upstream_error         UPSTREAM_OVERLOADED (529 on the Messages API)
    - StreamBroken                        502   upstream_error         UPSTREAM_STREAM_BROKEN
  (any other exception)                   500   server_error           INTERNAL_ERROR

A 5xx is never the client's doing, and its message may carry details of an upstream account
or of our own internals: clients get the table's public message instead (the real one goes to
the log with the request id). A 4xx keeps its message: it tells the client what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


class ModelsnestError(Exception):
    default_code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.param = param

    @property
    def status(self) -> int:
        return describe(self).status


class AuthError(ModelsnestError):
    default_code = "INVALID_TOKEN"


class PermissionDenied(ModelsnestError):
    default_code = "FORBIDDEN"


class NotFound(ModelsnestError):
    default_code = "NOT_FOUND"


class MethodNotAllowed(ModelsnestError):
    default_code = "METHOD_NOT_ALLOWED"


class InvalidRequest(ModelsnestError):
    default_code = "INVALID_REQUEST"


class ModelError(InvalidRequest):
    default_code = "MODEL_NOT_FOUND"


class UpstreamRejected(InvalidRequest):
    """The upstream called the request malformed (context too long, a bad parameter): the
    client's own doing, so it is a 4xx; its message is cleaned of upstream account details."""

    default_code = "UPSTREAM_BAD_REQUEST"


class PayloadTooLarge(ModelsnestError):
    default_code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(ModelsnestError):
    default_code = "UNSUPPORTED_MEDIA_TYPE"


class Conflict(ModelsnestError):
    default_code = "CONFLICT"


class InsufficientCredits(ModelsnestError):
    default_code = "INSUFFICIENT_CREDITS"


class RateLimited(ModelsnestError):
    default_code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int = 1, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, retry_after)


class PricingError(ModelsnestError):
    default_code = "PRICING_MISSING"


class DocsTemplateError(ModelsnestError):
    """A model's stored docs cannot be rendered (unknown placeholder, bad syntax, or something
    the template sandbox refuses); the message names the model and the row."""

    default_code = "INVALID_DOCS_TEMPLATE"


class UsageTransactionFailed(ModelsnestError):
    default_code = "USAGE_TRANSACTION_FAILED"


class UpstreamError(ModelsnestError):
    default_code = "UPSTREAM_ERROR"


class UpstreamTimeout(UpstreamError):
    default_code = "UPSTREAM_TIMEOUT"


class UpstreamOverloaded(UpstreamError):
    """Every route failed and the last said it was overloaded (Anthropic's 529
    ``overloaded_error``, a 503), or every provider is resting behind an open circuit: retry
    shortly. The Messages API answers it as Anthropic does, 529 ``overloaded_error``."""

    default_code = "UPSTREAM_OVERLOADED"


class StreamBroken(UpstreamError):
    default_code = "UPSTREAM_STREAM_BROKEN"


@dataclass(frozen=True, slots=True)
class ErrorKind:
    status: int
    type: str
    # What a client is told instead of the message, for errors that are not its doing (5xx).
    public_message: str | None = None


_INTERNAL = ErrorKind(500, "server_error", "Internal server error")

# Looked up along the exception's class hierarchy: the nearest listed class wins.
ERROR_KINDS: dict[type[BaseException], ErrorKind] = {
    AuthError: ErrorKind(401, "authentication_error"),
    PermissionDenied: ErrorKind(403, "permission_error"),
    NotFound: ErrorKind(404, "invalid_request_error"),
    MethodNotAllowed: ErrorKind(405, "invalid_request_error"),
    InvalidRequest: ErrorKind(400, "invalid_request_error"),
    PayloadTooLarge: ErrorKind(413, "invalid_request_error"),
    UnsupportedMediaType: ErrorKind(415, "invalid_request_error"),
    Conflict: ErrorKind(409, "invalid_request_error"),
    InsufficientCredits: ErrorKind(402, "insufficient_quota"),
    RateLimited: ErrorKind(429, "rate_limit_error"),
    DocsTemplateError: ErrorKind(422, "invalid_request_error"),
    PricingError: ErrorKind(
        500, "server_error", "This model's price is not configured correctly; you have not been charged."
    ),
    UsageTransactionFailed: ErrorKind(
        500, "server_error", "The usage of this request could not be recorded; you have not been charged."
    ),
    UpstreamError: ErrorKind(
        502,
        "upstream_error",
        "The upstream provider could not answer this request; you have not been charged.",
    ),
    UpstreamTimeout: ErrorKind(
        504, "upstream_error", "The upstream provider did not answer in time; you have not been charged."
    ),
    UpstreamOverloaded: ErrorKind(
        502,
        "upstream_error",
        "The providers of this model are overloaded right now; retry shortly. You have not been charged.",
    ),
    StreamBroken: ErrorKind(
        502,
        "upstream_error",
        "The upstream provider broke off this stream; you are billed only for what was delivered.",
    ),
    ModelsnestError: _INTERNAL,
}


def describe(exc: BaseException) -> ErrorKind:
    """The table's entry for ``exc``: its own class, else its nearest listed ancestor."""
    for cls in type(exc).__mro__:
        kind = ERROR_KINDS.get(cls)
        if kind is not None:
            return kind
    return _INTERNAL


def error_code(exc: BaseException) -> str:
    return exc.code if isinstance(exc, ModelsnestError) else "INTERNAL_ERROR"


def public_message(exc: BaseException) -> str:
    """What the client may read: the message of a 4xx, the table's generic text for a 5xx."""
    kind = describe(exc)
    if kind.status < 500 and isinstance(exc, ModelsnestError):
        return exc.message
    return kind.public_message or _INTERNAL.public_message or "Internal server error"
