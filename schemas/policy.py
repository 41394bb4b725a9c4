"""Caps and allow-lists applied while validating events, configurable through settings."""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_MAX_TEXT_CHARS = 5_000
DEFAULT_MAX_IMAGE_BYTES = 5 * 1024 * 1024
# base64 inflates inline images by 4/3; the rest of an event is small.
DEFAULT_MAX_PAYLOAD_BYTES = 8 * 1024 * 1024
DEFAULT_FETCH_DEADLINE_S = 15.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class HostRefused(ValueError):
    """A host that may not be fetched from; the message says why."""


@dataclass(frozen=True)
class ValidationPolicy:
    """What an event may carry. Built from :class:`schemas.settings.Settings` by the entry points."""

    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    allowed_uri_schemes: frozenset[str] = frozenset({"https", "http"})
    # Empty means any public host; otherwise only these hosts (exact or ``*.suffix``).
    allowed_uri_hosts: frozenset[str] = frozenset()
    allow_private_hosts: bool = False
    # ``file:`` URIs are refused unless this is set, and then only below it.
    file_root: Path | None = None
    resolve_hostnames: bool = False
    # The longest one image fetch may take in all (connections, redirects and the body).
    fetch_deadline_s: float = DEFAULT_FETCH_DEADLINE_S
    # How far ahead of now and how long ago an upload's ``uploaded_at`` may be (None: no bound).
    max_upload_future_s: float | None = None
    max_upload_age_s: float | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def check_uri(self, uri: str) -> str | None:
        """Return ``None`` when ``uri`` is allowed, else the reason it is not."""
        try:
            parts = urlsplit(uri)
        except ValueError as exc:
            return f"not a valid URI: {exc}"
        scheme = parts.scheme.lower()
        if scheme == "file":
            return self._check_file(parts.path)
        if scheme not in self.allowed_uri_schemes:
            allowed = ", ".join(sorted(self.allowed_uri_schemes | ({"file"} if self.file_root else set())))
            return f"scheme '{scheme or '(none)'}' is not allowed (allowed: {allowed})"
        host = normalise_host(parts.hostname or "")
        if not host:
            return "the URI has no host"
        if self.allowed_uri_hosts and not _host_matches(host, self.allowed_uri_hosts):
            return f"host '{host}' is not in the allow-list"
        if not self.allow_private_hosts:
            reason = _private_host_reason(host, self.resolve_hostnames)
            if reason:
                return reason
        return None

    def allowed_addresses(self, host: str) -> tuple[str, ...]:
        """The addresses ``host`` resolves to, every one of them checked: connect only to these.

        Raises :class:`HostRefused` when the host is a local name, does not resolve, or any of its
        addresses is not public (unless private hosts are allowed).
        """
        if not self.allow_private_hosts:
            reason = _local_name_reason(normalise_host(host))
            if reason:
                raise HostRefused(reason)
        addresses = resolve(host)
        if not self.allow_private_hosts:
            _refuse_non_public(host, addresses)
        return addresses

    def _check_file(self, path: str) -> str | None:
        if self.file_root is None:
            return "file: URIs are not allowed (no file root is configured)"
        root = self.file_root.resolve()
        target = Path(path).resolve()
        if target != root and root not in target.parents:
            return f"file path '{path}' is outside the configured root '{root}'"
        return None


def normalise_host(host: str) -> str:
    """``host`` in lower case without the trailing dot of a fully qualified name (``localhost.``)."""
    return host.lower().rstrip(".")


def _host_matches(host: str, allowed: frozenset[str]) -> bool:
    for pattern in allowed:
        pattern = normalise_host(pattern)
        if pattern.startswith("*.") and (host.endswith(pattern[1:]) or host == pattern[2:]):
            return True
        if host == pattern:
            return True
    return False


_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "metadata.google.internal"}
_LEGACY_IPV4 = re.compile(r"^[0-9a-fx.]+$")  # forms like 127.1, 0x7f000001 or 2130706433
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits


def _local_name_reason(host: str) -> str | None:
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return f"host '{host}' is a local name"
    return None


def _private_host_reason(host: str, resolve_names: bool) -> str | None:
    """Refuse local names and hosts that are (or, when resolving, resolve to) non-public addresses."""
    reason = _local_name_reason(host)
    if reason:
        return reason
    literal = _literal_address(host)
    if literal is not None:
        reason = address_reason(literal)
        return f"host '{host}': {reason}" if reason else None
    if resolve_names:
        try:
            _refuse_non_public(host, resolve(host))
        except HostRefused as exc:
            return str(exc)
    return None


def _refuse_non_public(host: str, addresses: tuple[str, ...]) -> None:
    for address in addresses:
        reason = address_reason(address)
        if reason:
            raise HostRefused(f"host '{host}': {reason}")


def _literal_address(host: str) -> IPAddress | None:
    """The address a host names literally, legacy IPv4 spellings included, else ``None``."""
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def resolve(host: str) -> tuple[str, ...]:
    """Every address ``host`` resolves to, in the resolver's order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise HostRefused(f"host '{host}' does not resolve") from exc
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address carries: IPv4-mapped, NAT64, 6to4 and Teredo (both)."""
    found = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF))
    if ip.teredo:
        found.extend(ip.teredo)
    return tuple(found)


def address_reason(address: str | IPAddress) -> str | None:
    """``None`` for a public unicast address, else why it is refused.

    Only ``is_global`` unicast addresses pass, and the IPv4 address embedded in an IPv6 one must
    pass too (Python 3.11 calls the 6to4 form of 127.0.0.1 global). IPv4-mapped and NAT64
    addresses reach their IPv4 address, which alone decides.
    """
    ip = ipaddress.ip_address(address.split("%")[0]) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = embedded_ipv4(ip)
        if ip.ipv4_mapped or ip in _NAT64:
            return None if _is_public(embedded[0]) else f"{ip} reaches {embedded[0]}, {_NOT_PUBLIC}"
        for v4 in embedded:
            if not _is_public(v4):
                return f"{ip} embeds {v4}, {_NOT_PUBLIC}"
    return None if _is_public(ip) else f"{ip} is {_NOT_PUBLIC}"


_NOT_PUBLIC = "not a public address (loopback, link-local, private, shared, reserved or multicast)"


def _is_public(ip: IPAddress) -> bool:
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local
                                 or ip.is_private or ip.is_unspecified)


DEFAULT_POLICY = ValidationPolicy()
