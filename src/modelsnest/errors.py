"""The domain error tree. Raised by services, mapped to HTTP in one place (``api/errors.py``)
and to one-line CLI messages in ``cli``. No HTTP imports here.

* ModelsnestError                       status  code
  + AuthError                             401   MISSING_AUTH_HEADER / INVALID_TOKEN
  + PermissionDenied                      403   FORBIDDEN
  + NotFound                              404   NOT_FOUND
  + InvalidRequest                        400   INVALID_REQUEST (and MISSING_MODEL, …)
    - ModelError                          400   MODEL_NOT_FOUND / MODEL_UNAVAILABLE
  + PayloadTooLarge                       413   PAYLOAD_TOO_LARGE
  + Conflict                              409   CONFLICT / IDEMPOTENCY_KEY_REUSED
  + InsufficientCredits                   402   INSUFFICIENT_CREDITS
  + RateLimited                           429   RATE_LIMITED (carries retry_after)
  + PricingError                          500   PRICING_MISSING / INVALID_PRICING
  + UsageTransactionFailed                500   USAGE_TRANSACTION_FAILED
  + UpstreamError                         502   UPSTREAM_ERROR
    - UpstreamTimeout                     504   UPSTREAM_TIMEOUT
"""

from __future__ import annotations

from typing import ClassVar


class ModelsnestError(Exception):
    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "INTERNAL_ERROR"
    error_type: ClassVar[str] = "server_error"

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.param = param


class AuthError(ModelsnestError):
    status = 401
    default_code = "INVALID_TOKEN"
    error_type = "authentication_error"


class PermissionDenied(ModelsnestError):
    status = 403
    default_code = "FORBIDDEN"
    error_type = "permission_error"


class NotFound(ModelsnestError):
    status = 404
    default_code = "NOT_FOUND"
    error_type = "invalid_request_error"


class InvalidRequest(ModelsnestError):
    status = 400
    default_code = "INVALID_REQUEST"
    error_type = "invalid_request_error"


class ModelError(InvalidRequest):
    default_code = "MODEL_NOT_FOUND"


class PayloadTooLarge(ModelsnestError):
    status = 413
    default_code = "PAYLOAD_TOO_LARGE"
    error_type = "invalid_request_error"


class Conflict(ModelsnestError):
    status = 409
    default_code = "CONFLICT"
    error_type = "invalid_request_error"


class InsufficientCredits(ModelsnestError):
    status = 402
    default_code = "INSUFFICIENT_CREDITS"
    error_type = "insufficient_quota"


class RateLimited(ModelsnestError):
    status = 429
    default_code = "RATE_LIMITED"
    error_type = "rate_limit_error"

    def __init__(self, message: str, *, retry_after: int = 1, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, retry_after)


class PricingError(ModelsnestError):
    default_code = "PRICING_MISSING"


class UsageTransactionFailed(ModelsnestError):
    default_code = "USAGE_TRANSACTION_FAILED"


class UpstreamError(ModelsnestError):
    status = 502
    default_code = "UPSTREAM_ERROR"
    error_type = "upstream_error"


class UpstreamTimeout(UpstreamError):
    status = 504
    default_code = "UPSTREAM_TIMEOUT"
