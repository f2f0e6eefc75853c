"""Fetching catalog files from the hosts the platform team allowed, and nothing else.

A sync reads URLs written by whoever edits a catalog file, so each request is treated as
untrusted:

- only ``http``/``https`` to a host named in ``APPKEEPER_BACKSTAGE_ALLOWED_HOSTS`` (an
  exact name, or ``.example.com`` for its subdomains);
- the name is resolved once, every address is checked (private, loopback, link-local and
  reserved ones are refused unless ``APPKEEPER_BACKSTAGE_ALLOW_PRIVATE``), and the
  connection goes to that checked address with the original ``Host`` header and TLS
  server name, so a second DNS answer cannot point it elsewhere;
- redirects are followed by hand, at most ``MAX_REDIRECTS``, each hop checked like the
  first; the token goes to the source's own host only, never after a redirect elsewhere;
- the body is counted while it streams and abandoned past
  ``APPKEEPER_BACKSTAGE_FETCH_MAX_BYTES``.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings

MAX_REDIRECTS = 5
CONNECT_SECONDS = 5.0
READ_SECONDS = 20.0
CHUNK = 64 * 1024


class FetchError(Exception):
    """A URL was refused or could not be read; the message says which and why."""


@dataclass
class Fetched:
    url: str  # after redirects
    status: int  # 200, or 304 when the conditional request matched
    text: str = ""
    etag: str = ""
    last_modified: str = ""


def host_allowed(host: str) -> bool:
    host = host.lower().rstrip(".")
    for entry in settings.APPKEEPER_BACKSTAGE_ALLOWED_HOSTS:
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry.startswith("."):
            if host.endswith(entry):
                return True
        elif host == entry:
            return True
    return False


def check_url(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an allowed URL; raises :class:`FetchError` otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(f"{url} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"{url}: only http and https URLs are fetched.")
    host = (parts.hostname or "").lower()
    if not host:
        raise FetchError(f"{url} names no host.")
    if parts.username or parts.password:
        raise FetchError(f"{url}: credentials in the URL are refused; use the source's token.")
    if not host_allowed(host):
        raise FetchError(
            f"{host} is not an allowed host: add it to APPKEEPER_BACKSTAGE_ALLOWED_HOSTS "
            "to fetch from it."
        )
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


def public_address(host: str, port: int) -> str:
    """The address to connect to: the first the name resolves to, once every address it
    resolves to was checked (one private answer among public ones is refused too)."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise FetchError(f"{host} cannot be resolved: {exc}") from None
    addresses = [str(answer[4][0]) for answer in answers]
    if not addresses:
        raise FetchError(f"{host} cannot be resolved.")
    if not settings.APPKEEPER_BACKSTAGE_ALLOW_PRIVATE:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not ip.is_global or ip.is_multicast:
                raise FetchError(
                    f"{host} resolves to {ip}, a private, loopback, link-local or reserved "
                    "address; set APPKEEPER_BACKSTAGE_ALLOW_PRIVATE to fetch from it."
                )
    return addresses[0]


def _pool(scheme: str, host: str, port: int, address: str) -> urllib3.HTTPConnectionPool:
    timeout = urllib3.Timeout(connect=CONNECT_SECONDS, read=READ_SECONDS)
    if scheme == "https":
        # Connect to the checked address, verify the certificate against the name.
        return urllib3.HTTPSConnectionPool(
            address,
            port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=host,
            assert_hostname=host,
            ssl_context=ssl.create_default_context(),
        )
    return urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False, maxsize=1)


def _host_header(host: str, port: int, scheme: str) -> str:
    name = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return name if port == default else f"{name}:{port}"


def fetch(
    url: str,
    *,
    token: str = "",
    token_host: str = "",
    etag: str = "",
    last_modified: str = "",
) -> Fetched:
    """GET ``url`` safely (see the module); raises :class:`FetchError`.

    ``token`` is sent only to ``token_host`` (the source's own host). ``etag`` and
    ``last_modified`` make the request conditional; a 304 comes back as ``status=304``.
    """
    limit = settings.APPKEEPER_BACKSTAGE_FETCH_MAX_BYTES
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        scheme, host, port = check_url(current)
        address = public_address(host, port)
        parts = urlsplit(current)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {
            "Host": _host_header(host, port, scheme),
            "Accept": "application/yaml, application/json, text/plain, */*",
            # A compressed body could expand far past the cap before it is counted.
            "Accept-Encoding": "identity",
            "User-Agent": "Appkeeper-Backstage-Sync",
        }
        if token and token_host and host == token_host.lower():
            headers["Authorization"] = f"Bearer {token}"
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        pool = _pool(scheme, host, port, address)
        try:
            response = pool.urlopen(
                "GET",
                target,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=False,
                assert_same_host=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            pool.close()
            raise FetchError(f"{current} could not be read: {exc}") from None
        try:
            status = response.status
            if status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location", "")
                if not location:
                    raise FetchError(f"{current} redirected without saying where.")
                following = urljoin(current, location)
                try:
                    check_url(following)
                except FetchError as refused:
                    raise FetchError(
                        f"{current} redirected to {following}, which is refused: {refused}"
                    ) from None
                current = following
                continue
            if status == 304:
                return Fetched(
                    current,
                    304,
                    etag=response.headers.get("ETag", etag),
                    last_modified=response.headers.get("Last-Modified", last_modified),
                )
            if status != 200:
                raise FetchError(f"{current} answered HTTP {status}.")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchError(f"{current} is {declared} bytes, over the {limit}-byte limit.")
            body = bytearray()
            for chunk in response.stream(CHUNK, decode_content=False):
                body += chunk
                if len(body) > limit:
                    raise FetchError(f"{current} is over the {limit}-byte limit; not read.")
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise FetchError(f"{current} is not UTF-8 text.") from None
            return Fetched(
                current,
                200,
                text,
                etag=response.headers.get("ETag", ""),
                last_modified=response.headers.get("Last-Modified", ""),
            )
        except urllib3.exceptions.HTTPError as exc:
            raise FetchError(f"{current} could not be read: {exc}") from None
        finally:
            response.release_conn()
            pool.close()
    raise FetchError(f"{url} redirected more than {MAX_REDIRECTS} times.")
