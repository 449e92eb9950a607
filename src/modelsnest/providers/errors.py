"""Errors an adapter raises, translated at the adapter boundary from aiohttp/httpx and
upstream HTTP errors. The router decides from ``retryable`` whether to try the next route.

* ProviderError
  + ProviderConnectError      connection refused / DNS / TLS          retryable
  + ProviderTimeout           connect, first byte or total timeout    retryable
  + ProviderHTTPError         upstream answered non-2xx
    - ProviderRateLimited     429                                     retryable
    - ProviderServerError     5xx                                     retryable
    - ProviderBadRequest      400/404/413/422: the request is at fault  not retryable
    - ProviderAuthError       401/403: our key for it is wrong         retryable (next route)
  + ProviderProtocolError     the upstream's answer cannot be understood retryable
  + ProviderDownloadError     a file the upstream generated (image, video) cannot be fetched:
                              HTTP error, too large, broken connection  retryable
  + ProviderUnsupported       the adapter cannot serve this capability  retryable
"""

from __future__ import annotations


class ProviderError(Exception):
    retryable: bool = True
    # Seconds the upstream asked us to wait (its ``Retry-After`` header), when it said.
    retry_after: float | None = None

    def __init__(self, message: str, *, status: int | None = None, body: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body


class ProviderConnectError(ProviderError):
    pass


class ProviderTimeout(ProviderError):
    pass


class ProviderHTTPError(ProviderError):
    pass


class ProviderRateLimited(ProviderHTTPError):
    pass


class ProviderServerError(ProviderHTTPError):
    pass


class ProviderBadRequest(ProviderHTTPError):
    retryable = False


class ProviderAuthError(ProviderHTTPError):
    pass


class ProviderProtocolError(ProviderError):
    pass


class ProviderDownloadError(ProviderError):
    pass


class ProviderUnsupported(ProviderError):
    pass
