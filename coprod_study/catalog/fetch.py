"""Fetch a URL from the internet without letting it reach internal services."""

import http.client
import ipaddress
import socket
import ssl
import time
from urllib.parse import urljoin, urlsplit

from flask import current_app

from coprod_study.errors import DomainError

MAX_BYTES = 10 * 1024 * 1024
TIMEOUT = 15
MAX_REDIRECTS = 5
REDIRECT_CODES = {301, 302, 303, 307, 308}
USER_AGENT = "coprod-study feed importer"
_CHUNK = 64 * 1024


class FetchError(DomainError):
    """A URL that may not be fetched, or did not answer well; the message says which."""

    def __init__(self, message: str):
        super().__init__(message, field="url")


def fetch(
    url: str,
    *,
    max_bytes: int = MAX_BYTES,
    timeout: float = TIMEOUT,
    max_redirects: int = MAX_REDIRECTS,
) -> tuple[bytes, str]:
    """GET `url` and return (body, content type).

    Only http and https; every hop's host is resolved and refused when it
    points at a private, loopback, link-local, multicast, reserved or
    unspecified address (unless FETCH_ALLOW_PRIVATE allows it), and the
    connection goes to the very address that was checked, so a DNS answer
    that changes between the check and the connection cannot slip through.
    `timeout` bounds the whole exchange, not each read.

    :raise FetchError: with a message fit to show to the person who asked.
    """
    deadline = time.monotonic() + timeout
    current = url
    for _hop in range(max_redirects + 1):
        response, connection = _request(current, deadline)
        try:
            if response.status in REDIRECT_CODES:
                location = response.getheader("Location")
                if not location:
                    raise FetchError(f"{_short(current)} redirected without saying where to.")
                current = urljoin(current, location.strip())
                continue
            if response.status != 200:
                raise FetchError(
                    f"{_short(current)} answered {response.status} {response.reason}."
                )
            body = _read_body(response, connection, current, max_bytes, deadline)
            return body, response.getheader("Content-Type") or ""
        finally:
            connection.close()
    raise FetchError(f"{_short(url)} redirected more than {max_redirects} times.")


def _short(url: str) -> str:
    return url if len(url) <= 120 else url[:117] + "..."


def _allowed_networks():
    """True (any address), or the private networks the setting opens (possibly none)."""
    setting = current_app.config.get("FETCH_ALLOW_PRIVATE", False)
    if setting is True:
        return True
    if not setting:
        return []
    # A list such as ["127.0.0.1/32"] opens just those networks (instance/config.py).
    return [ipaddress.ip_network(item, strict=False) for item in setting]


def _refusal(address) -> str | None:
    """Why `address` is off limits, or None when it is a public address."""
    for attribute, label in (
        ("is_unspecified", "an unspecified"),
        ("is_loopback", "a loopback"),
        ("is_link_local", "a link-local"),
        ("is_multicast", "a multicast"),
        ("is_private", "a private"),
        ("is_reserved", "a reserved"),
    ):
        if getattr(address, attribute):
            return label
    if not address.is_global:
        # Shared (carrier-grade NAT) space and the like: not reachable from the internet either.
        return "a non-public"
    return None


def check_address(address_text: str, host: str) -> str:
    """Return the address if it may be fetched from; raise FetchError if not."""
    address = ipaddress.ip_address(address_text.split("%", 1)[0])
    if address.version == 6 and address.ipv4_mapped is not None:
        # ::ffff:127.0.0.1 is 127.0.0.1; Python 3.11 does not judge it as such.
        address = address.ipv4_mapped
    reason = _refusal(address)
    if reason is None:
        return address_text
    allowed = _allowed_networks()
    if allowed is True or any(address in network for network in allowed):
        return address_text
    raise FetchError(
        f"{host} is {reason} address ({address}); fetching from internal addresses "
        "is turned off (FETCH_ALLOW_PRIVATE)."
    )


def _resolve(host: str, port: int) -> list[str]:
    """Resolve `host` and check every address it has; return them, in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchError(f"The host {host} could not be found.") from error
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise FetchError(f"The host {host} could not be found.")
    # Every address must pass: a name that resolves to one public and one
    # internal address would otherwise be a coin toss.
    for address in addresses:
        check_address(address, host)
    return addresses


def _connect(address: str, port: int, timeout: float) -> socket.socket:
    return socket.create_connection((address, port), timeout=timeout)


class _Pinned:
    """Connects to the address that was checked, not to whatever the name resolves to now.

    http.client opens its socket through `_create_connection`; replacing it
    keeps the Host header and the TLS name (SNI and certificate check) on the
    real host name while no second DNS lookup can happen. The connected
    socket (TLS-wrapped for https) is kept so the reader can shrink its
    timeout as the deadline nears, even after http.client hands the socket
    over to the response.
    """

    def __init__(self, *args, pinned_addresses: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.pinned_addresses = pinned_addresses
        self.pinned_socket: socket.socket | None = None
        self._create_connection = self._connect_pinned

    def _connect_pinned(self, _address, timeout, _source=None):
        # Like socket.create_connection: the first address that answers (an
        # IPv6 address may be unreachable where IPv4 works), all of them checked.
        error: OSError | None = None
        for address in self.pinned_addresses:
            try:
                return _connect(address, self.port, timeout)
            except OSError as failure:
                error = failure
        raise error or OSError("no address to connect to")

    def connect(self):
        super().connect()
        self.pinned_socket = self.sock


class _PinnedHTTPConnection(_Pinned, http.client.HTTPConnection):
    pass


class _PinnedHTTPSConnection(_Pinned, http.client.HTTPSConnection):
    pass


def _request(url: str, deadline: float):
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise FetchError(f"Only http and https addresses can be fetched, not {scheme or 'this'}: {_short(url)}")
    if parts.username or parts.password:
        raise FetchError("Addresses with a user name or password in them are not fetched.")
    host = parts.hostname
    if not host:
        raise FetchError(f"{_short(url)} has no host name.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as error:
        raise FetchError(f"{_short(url)} has an invalid port.") from error
    addresses = _resolve(host, port)
    remaining = _remaining(deadline, url)
    if scheme == "https":
        connection = _PinnedHTTPSConnection(
            host,
            port,
            timeout=remaining,
            context=ssl.create_default_context(),
            pinned_addresses=addresses,
        )
    else:
        connection = _PinnedHTTPConnection(
            host, port, timeout=remaining, pinned_addresses=addresses
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request(
            "GET",
            path,
            headers={
                "User-Agent": USER_AGENT,
                "Accept-Encoding": "identity",
                "Accept": "*/*",
                "Connection": "close",
            },
        )
        response = connection.getresponse()
    except FetchError:
        connection.close()
        raise
    except TimeoutError as error:
        connection.close()
        raise FetchError(f"{_short(url)} did not answer in time.") from error
    except ssl.SSLError as error:
        connection.close()
        raise FetchError(f"{_short(url)}: secure connection failed ({error.reason or error}).") from error
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        raise FetchError(f"{_short(url)} could not be fetched ({type(error).__name__}).") from error
    return response, connection


def _remaining(deadline: float, url: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError(f"{_short(url)} did not answer in time.")
    return left


def _read_body(response, connection, url: str, max_bytes: int, deadline: float) -> bytes:
    limit = _describe_size(max_bytes)
    declared = response.getheader("Content-Length")
    if declared and declared.strip().isdigit() and int(declared) > max_bytes:
        raise FetchError(f"{_short(url)} is larger than {limit}.")
    chunks = []
    total = 0
    try:
        while True:
            if connection.pinned_socket is not None:
                connection.pinned_socket.settimeout(_remaining(deadline, url))
            chunk = response.read1(_CHUNK) if hasattr(response, "read1") else response.read(_CHUNK)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:
                raise FetchError(f"{_short(url)} is larger than {limit}.")
            chunks.append(chunk)
            _remaining(deadline, url)
    except TimeoutError as error:
        raise FetchError(f"{_short(url)} did not answer in time.") from error
    except (OSError, http.client.HTTPException) as error:
        raise FetchError(f"{_short(url)} broke off while sending ({type(error).__name__}).") from error
    return b"".join(chunks)


def _describe_size(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MB"
    if size >= 1024 and size % 1024 == 0:
        return f"{size // 1024} KB"
    return f"{size} bytes"
