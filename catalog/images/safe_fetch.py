"""Fetch an image from an allowlisted host without letting a URL reach into our own network (SSRF).

Guarded the way camo and imgproxy guard theirs. Every hop (the first URL and each redirect) goes through:

1. **URL**: http or https only, no credentials, and the host on the allowlist. The match is exact and
   case-insensitive (a trailing dot and IDNA are normalised): `img.example.com` does NOT allow
   `cdn.img.example.com`. This runs before any DNS lookup. Any port is allowed.
2. **Addresses**: an IP literal is parsed the way libc's `inet_aton` does (`127.1`, `2130706433`,
   `0x7f.1`, `0177.0.0.1` are all 127.0.0.1); a name is resolved with `socket.getaddrinfo`, bounded
   by the deadline. If ANY address is not public (loopback, private, link-local, unspecified,
   multicast, reserved, CGNAT, or an IPv6 address embedding such an IPv4 one: mapped, compatible,
   6to4, NAT64, Teredo) the fetch is refused.
3. **Pinning**: the TCP connection goes to one of exactly those checked addresses. Nothing
   resolves the name again, so DNS rebinding cannot swap the address. The Host header, the TLS
   SNI and the certificate check still use the hostname. Certificates are always verified.
4. **Limits**: one deadline covers DNS, connect, TLS, headers and body. Every socket read waits
   at most the time left, so a server sending 1 byte per second is cut off at the deadline. The
   body may be at most `max_bytes`, the status must be 200, and at most 3 redirects are followed.
   The Content-Type must be JPEG, PNG, WebP or GIF, and so must the body's magic bytes.

`fetch_image` returns a `FetchedImage` or raises `FetchRefused(reason)`. The reason is written so
that an API error can show it.

`send` is the same guard for one request to any host (outgoing webhooks, issue 28): steps 1-3
without the allowlist, private addresses allowed only when asked (`allow_private`), never a
redirect followed (a 3xx is answered like any status), any status returned with at most
`max_bytes` of the body. It raises `FetchRefused` when the URL or its addresses are refused, and
`FetchFailed` (a FetchRefused) when the network failed: DNS, connect, TLS, the deadline.
"""
from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, NamedTuple
from urllib.parse import urljoin, urlsplit

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "iShop-image-proxy/1.0"
_CHUNK = 64 * 1024
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+")  # what inet_aton could read as an IPv4 address
# getaddrinfo cannot time out by itself, so it runs here and we wait for at most the time left.
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="safe-fetch-dns")

Address = tuple[int, tuple]  # (socket family, sockaddr) as getaddrinfo gives them


class FetchRefused(Exception):
    """The URL was refused or the fetch failed; `reason` says why, in words fit for an API error."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class FetchFailed(FetchRefused):
    """The request was allowed but the network failed (DNS lookup, connection, TLS, the deadline):
    worth trying again later, unlike a refusal."""


class Answer(NamedTuple):
    """What `send` got: the HTTP `status`, the start of the body (at most max_bytes) and the headers."""

    status: int
    body: bytes
    headers: dict[str, str]


class FetchedImage(NamedTuple):
    content: bytes      # the body, at most max_bytes
    content_type: str   # read from the magic bytes, one of IMAGE_TYPES
    final_url: str      # the URL after redirects


class _Target(NamedTuple):
    scheme: str
    host: str  # normalised: lower case, ASCII (IDNA), no trailing dot, no IPv6 brackets
    port: int
    path: str  # path and query, as sent on the request line


def fetch_image(url: str, *, max_bytes: int, timeout: float, allowed_hosts: Iterable[str]) -> FetchedImage:
    """GET an image through every guard above within `timeout` seconds in total. Raises FetchRefused."""
    deadline = time.monotonic() + timeout
    allowed = {name for name in map(_allowlist_entry, allowed_hosts) if name}
    for _ in range(MAX_REDIRECTS + 1):
        target = check_url(url, allowed)
        try:
            addresses = resolve(target.host, target.port, deadline)
            location, content = _get(target, addresses, deadline, max_bytes)
        except TimeoutError:
            raise FetchRefused(f"the image host did not answer within {timeout:g} seconds") from None
        except (OSError, http.client.HTTPException) as error:  # ssl.SSLError is an OSError
            raise FetchRefused(f"could not fetch the image: {error.__class__.__name__}: {error}") from None
        if location is None:
            return FetchedImage(content, sniff_image_type(content), url)
        url = urljoin(url, location)
    raise FetchRefused(f"more than {MAX_REDIRECTS} redirects")


def send(url: str, *, method: str, body: bytes, headers: dict[str, str], timeout: float, max_bytes: int,
         allow_private: bool = False, user_agent: str = "iShop-webhooks/1.0") -> Answer:
    """One `method` request of `body` with `headers` to `url` within `timeout` seconds in total,
    through steps 1-3 (any host; private and loopback addresses only with `allow_private`). No
    redirect is followed. Returns the Answer whatever its status, with the first `max_bytes` bytes
    of the body. Raises FetchRefused (URL or address refused) or FetchFailed (network failure)."""
    deadline = time.monotonic() + timeout
    target = check_url(url, None)
    try:
        addresses = resolve(target.host, target.port, deadline, allow_private=allow_private)
    except TimeoutError:
        raise FetchFailed(f"{target.host} could not be resolved within {timeout:g} seconds") from None
    except FetchRefused as refusal:
        if "could not be resolved" in refusal.reason:  # DNS may answer next time; a private address will not
            raise FetchFailed(refusal.reason) from None
        raise
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target.host, target.port, addresses=addresses, deadline=deadline)
    try:
        connection.request(method, target.path, body=body, headers={
            "User-Agent": user_agent, "Connection": "close", **headers})
        response = connection.getresponse()
        content = response.read(max_bytes) if max_bytes > 0 else b""
        return Answer(response.status, content, {name.lower(): value for name, value in response.getheaders()})
    except TimeoutError:
        raise FetchFailed(f"no answer within {timeout:g} seconds") from None
    except (OSError, http.client.HTTPException) as error:  # ssl.SSLError is an OSError
        raise FetchFailed(f"{error.__class__.__name__}: {error}") from None
    finally:
        connection.close()


def check_url(url: str, allowed: set[str] | None) -> _Target:
    """Step 1: scheme, credentials and the allowlist (None: any host); no network. Raises FetchRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise FetchRefused(f"not a valid URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchRefused(f"only http and https URLs can be fetched, not {scheme or 'a URL without a scheme'}")
    if parts.username is not None or parts.password is not None:
        raise FetchRefused("URLs with a user name or password are not fetched")
    if not parts.hostname:
        raise FetchRefused("the URL has no host")
    host = _normalise_host(parts.hostname)
    if allowed is not None and host not in allowed:
        raise FetchRefused(f"{host} is not on the image proxy's list of allowed hosts")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def resolve(host: str, port: int, deadline: float, *, allow_private: bool = False) -> list[Address]:
    """Step 2: the addresses to connect to, every one of them public (any, with `allow_private`).
    Raises FetchRefused, TimeoutError."""
    literal = parse_ip_literal(host)
    if literal is not None:
        family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
        infos = [(family, socket.SOCK_STREAM, 0, "", (str(literal), port))]
    else:
        lookup = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        try:
            infos = lookup.result(timeout=_remaining(deadline))
        except TimeoutError:
            lookup.cancel()  # if it is still queued behind stuck lookups, drop it
            raise
        except socket.gaierror as error:
            raise FetchRefused(f"{host} could not be resolved ({error.strerror})") from None
    addresses = []
    for family, _type, _proto, _canonname, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0])
        if not allow_private and not is_public_ip(ip):
            raise FetchRefused(f"{host} resolves to {ip}, which is not a public address")
        addresses.append((family, sockaddr))
    if not addresses:
        raise FetchRefused(f"{host} has no address")
    return addresses


def parse_ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address `host` names literally, read as libc would (127.1, 2130706433, 0x7f.0.0.1), or None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            pass
    return None


def is_public_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True only for a globally routable unicast address, also checking IPv4 addresses inside IPv6 ones."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id or ip.teredo:
            return False
        low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        embedded = [ip.ipv4_mapped, ip.sixtofour]
        if ip in _IPV4_COMPATIBLE or any(ip in net for net in _NAT64):
            embedded.append(low32)
        if any(v4 is not None and not is_public_ip(v4) for v4 in embedded):
            return False
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified
                                 or ip.is_multicast or ip.is_reserved)


def sniff_image_type(content: bytes) -> str | None:
    """The image type the magic bytes say (JPEG, PNG, GIF, WebP), or None."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def tls_context() -> ssl.SSLContext:
    """The TLS settings for https fetches: the system CAs, with certificate and hostname checks."""
    return ssl.create_default_context()


# --- Step 3 and 4: the pinned connection and the capped, deadline-bound read --------------------


def _get(target: _Target, addresses: list[Address], deadline: float, max_bytes: int) -> tuple[str | None, bytes]:
    """One GET: (Location, b"") for a redirect, (None, body) for an image. Raises FetchRefused, OSError."""
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target.host, target.port, addresses=addresses, deadline=deadline)
    try:
        connection.request("GET", target.path, headers={
            "User-Agent": USER_AGENT, "Accept": ", ".join(sorted(IMAGE_TYPES)), "Connection": "close"})
        response = connection.getresponse()
        if response.status in REDIRECT_STATUSES:
            location = response.getheader("Location")
            if not location:
                raise FetchRefused(f"the image host answered HTTP {response.status} without a Location")
            return location, b""
        if response.status != 200:
            raise FetchRefused(f"the image host answered HTTP {response.status}")
        content_type = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if content_type not in IMAGE_TYPES:
            raise FetchRefused(f"the image host sent {content_type or 'no content type'}, not a JPEG, PNG, WebP or GIF")
        length = response.getheader("Content-Length") or ""
        if length.isdigit() and int(length) > max_bytes:
            raise FetchRefused(f"the image is {int(length)} bytes, over the {max_bytes} byte limit")
        content = _read_capped(response, max_bytes)
        if sniff_image_type(content) is None:
            raise FetchRefused(f"the body sent as {content_type} is not a JPEG, PNG, WebP or GIF image")
        return None, content
    finally:
        connection.close()


def _read_capped(response: http.client.HTTPResponse, max_bytes: int) -> bytes:
    """The body, refusing as soon as it grows past max_bytes (whatever Content-Length claimed)."""
    chunks, size = [], 0
    while chunk := response.read(min(_CHUNK, max_bytes + 1 - size)):
        size += len(chunk)
        if size > max_bytes:
            raise FetchRefused(f"the image is over the {max_bytes} byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _remaining(deadline: float) -> float:
    """Seconds left before the deadline; TimeoutError once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline reached")
    return left


class _DeadlineMixin:
    """Every receive and send on this socket waits at most until `deadline` (time.monotonic())."""

    deadline = float("inf")

    def recv_into(self, *args, **kwargs):
        self.settimeout(_remaining(self.deadline))
        return super().recv_into(*args, **kwargs)

    def sendall(self, *args, **kwargs):
        self.settimeout(_remaining(self.deadline))
        return super().sendall(*args, **kwargs)


class _DeadlineSocket(_DeadlineMixin, socket.socket):
    pass


class _DeadlineSSLSocket(_DeadlineMixin, ssl.SSLSocket):
    pass


def _connect_pinned(addresses: list[Address], deadline: float) -> _DeadlineSocket:
    """A TCP connection to the first checked address that answers; never a fresh DNS lookup."""
    error: OSError = OSError("no address to connect to")
    for family, sockaddr in addresses:
        sock = _DeadlineSocket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(_remaining(deadline))
            sock.connect(sockaddr)
        except OSError as failure:
            sock.close()
            error = failure
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.deadline = deadline
        return sock
    raise error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to a checked address; the Host header still names the host."""

    def __init__(self, host: str, port: int, *, addresses: list[Address], deadline: float):
        super().__init__(host, port)
        self.addresses, self.deadline = addresses, deadline

    def connect(self) -> None:
        self.sock = _connect_pinned(self.addresses, self.deadline)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address; SNI, Host and the certificate check use the host name."""

    def __init__(self, host: str, port: int, *, addresses: list[Address], deadline: float):
        context = tls_context()
        context.sslsocket_class = _DeadlineSSLSocket
        super().__init__(host, port, context=context)
        self.addresses, self.deadline = addresses, deadline

    def connect(self) -> None:
        sock = _connect_pinned(self.addresses, self.deadline)
        sock.settimeout(_remaining(self.deadline))  # bounds the whole handshake
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
        self.sock.deadline = self.deadline


def _normalise_host(host: str) -> str:
    """Lower case, no trailing dot, no IPv6 brackets, IDNA-encoded. Raises FetchRefused."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise FetchRefused(f"{host!r} is not a valid host name") from None
    return host


def _allowlist_entry(host: str) -> str:
    """An allowlist entry normalised like a URL's host; '' for an entry that cannot match anything."""
    try:
        return _normalise_host(host)
    except FetchRefused:
        return ""
