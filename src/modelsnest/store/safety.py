"""What keeps a store call inside the product the operator listed.

* The upstream host is the operator's: the customer's part of the URL is only a path below
  the base, checked on its raw bytes (``..`` segments, encoded ``/ . \\ @ %``, backslashes,
  ``@``, absolute URLs and control characters are refused with 400).
* Every address the upstream's name resolves to is checked; private, loopback, link-local,
  multicast and reserved addresses are refused (unless the product allows the private
  network), and the request goes to the checked address itself (the Host header and TLS name
  kept), so a DNS answer that changes between the check and the connection changes nothing.
* Redirects are never followed: a relative or same-base ``Location`` is rewritten to the store
  URL, any other is dropped.
* Headers: the customer's credentials (Authorization, x-api-key, cookies), hop-by-hop and
  proxy headers never go upstream; a CR, LF or NUL in any forwarded header is a 400.
"""

from __future__ import annotations

import asyncio
import fnmatch
import ipaddress
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urljoin, urlsplit

from modelsnest.errors import InvalidRequest, PermissionDenied, UpstreamError

HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Never sent upstream: the customer's credentials, what the transport sets itself, and what
# would let a caller pretend to be someone else.
REQUEST_DROP: Final = HOP_BY_HOP | frozenset(
    {
        "authorization",
        "x-api-key",
        "api-key",
        "cookie",
        "host",
        "content-length",
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-real-ip",
        "idempotency-key",
    }
)
RESPONSE_DROP: Final = HOP_BY_HOP | frozenset({"set-cookie", "content-length", "location", "server", "date"})

_BAD_ENCODED: Final = re.compile(r"%(2f|2e|5c|40|25|00|0a|0d|3f|23)", re.IGNORECASE)
_PATH_CHARS: Final = re.compile(r"^[A-Za-z0-9\-._~!$&'()*+,;=:%/]*$")
_SLUG: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def check_slug(slug: str) -> str:
    if not _SLUG.match(slug):
        raise InvalidRequest("Product slugs use 1-64 lowercase letters, digits and dashes.", param="slug")
    return slug


def check_base_url(url: str) -> str:
    """An operator's upstream base: http(s), a host, no credentials, query or fragment."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(
            "The upstream base URL must be an http(s) URL with a host.", param="upstream_base_url"
        )
    if parts.username or parts.password or "@" in parts.netloc:
        raise InvalidRequest(
            "Put credentials in the upstream auth, not in the URL.", param="upstream_base_url"
        )
    if parts.query or parts.fragment:
        raise InvalidRequest("The upstream base URL takes no query or fragment.", param="upstream_base_url")
    try:
        parts.port  # noqa: B018  (a malformed port raises here)
    except ValueError:
        raise InvalidRequest(
            "The upstream base URL has a malformed port.", param="upstream_base_url"
        ) from None
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return f"{parts.scheme}://{parts.netloc}{path}"


def check_path(raw: str) -> str:
    """The customer's path below the base, exactly as sent (still percent-encoded)."""
    if "\\" in raw or "@" in raw:
        raise InvalidRequest("The path may not contain '\\' or '@'.", code="INVALID_PATH", param="path")
    if not _PATH_CHARS.match(raw):
        raise InvalidRequest(
            "The path contains characters that are not allowed.", code="INVALID_PATH", param="path"
        )
    if _BAD_ENCODED.search(raw):
        raise InvalidRequest(
            "The path may not contain encoded '/', '.', '\\', '@', '%', '?', '#' or control characters.",
            code="INVALID_PATH",
            param="path",
        )
    if raw.startswith("/") or "//" in raw or "://" in raw or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", raw):
        raise InvalidRequest("The path must be relative to the product.", code="INVALID_PATH", param="path")
    if any(segment in (".", "..") for segment in raw.split("/")):
        raise InvalidRequest(
            "The path may not contain '.' or '..' segments.", code="INVALID_PATH", param="path"
        )
    return raw


def path_allowed(path: str, patterns: Iterable[str]) -> bool:
    """Glob patterns on the path below the base (``*`` crosses '/': ``v1/*`` allows any depth)."""
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns)


def check_header_value(name: str, value: str) -> None:
    if any(ch in value or ch in name for ch in ("\r", "\n", "\x00")):
        raise InvalidRequest(f"Header {name!r} contains a line break.", code="INVALID_HEADER", param=name)


def forward_headers(headers: Iterable[tuple[str, str]], *, drop: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The customer's headers that may go upstream (and any named in its Connection header dropped)."""
    items = list(headers)
    listed = {
        token.strip().lower()
        for name, value in items
        if name.lower() == "connection"
        for token in value.split(",")
    }
    dropped = REQUEST_DROP | listed | {name.lower() for name in drop}
    kept: list[tuple[str, str]] = []
    for name, value in items:
        check_header_value(name, value)
        lower = name.lower()
        if lower in dropped or lower.startswith(("x-modelsnest-", "proxy-", "x-forwarded-")):
            continue
        kept.append((name, value))
    return kept


def answer_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    items = list(headers)
    listed = {
        token.strip().lower()
        for name, value in items
        if name.lower() == "connection"
        for token in value.split(",")
    }
    return [
        (name, value)
        for name, value in items
        if name.lower() not in RESPONSE_DROP
        and name.lower() not in listed
        and not any(ch in value for ch in ("\r", "\n", "\x00"))
    ]


def rewrite_location(location: str, upstream_url: str, base_url: str, store_base: str) -> str | None:
    """A redirect is never followed; its target is shown as the store URL when it stays
    below the product's base, and dropped otherwise."""
    target = urljoin(upstream_url, location)
    base = urlsplit(base_url)
    parts = urlsplit(target)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith(base.path):
        return None
    rest = parts.path[len(base.path) :]
    try:
        check_path(rest)
    except InvalidRequest:
        return None
    return store_base + rest + (f"?{parts.query}" if parts.query else "")


def address_refused(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"))
    )


@dataclass(frozen=True)
class Target:
    """Where a request really goes: the checked address, and the name it is made for."""

    scheme: str
    host: str  # the name (for Host and TLS)
    address: str  # the checked IP connected to
    port: int

    def url(self, path_and_query: str) -> str:
        literal = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{literal}:{self.port}{path_and_query}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


async def resolve(url: str, *, allow_private: bool) -> Target:
    """Resolve the URL's host and check every address; the first allowed one is used."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidRequest("Only http(s) URLs can be fetched.", code="INVALID_URL", param="url")
    if parts.username or parts.password:
        raise InvalidRequest("URLs with credentials cannot be fetched.", code="INVALID_URL", param="url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidRequest("The URL has a malformed port.", code="INVALID_URL", param="url") from None
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UpstreamError(f"cannot resolve {host!r}: {exc}", code="UPSTREAM_UNRESOLVABLE") from exc
    addresses = [str(info[4][0]).split("%")[0] for info in infos]
    if not addresses:
        raise UpstreamError(f"{host!r} has no address", code="UPSTREAM_UNRESOLVABLE")
    if not allow_private and any(address_refused(a) for a in addresses):
        raise PermissionDenied(
            "The address this product points to is in a private network; the request was refused.",
            code="PRIVATE_NETWORK_REFUSED",
        )
    return Target(parts.scheme, host, addresses[0], port)


def header_map(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}
