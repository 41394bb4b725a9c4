"""Caps and allow-lists applied while validating events, configurable through settings."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_MAX_TEXT_CHARS = 5_000
DEFAULT_MAX_IMAGE_BYTES = 5 * 1024 * 1024
# base64 inflates inline images by 4/3; the rest of an event is small.
DEFAULT_MAX_PAYLOAD_BYTES = 8 * 1024 * 1024


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
        host = (parts.hostname or "").lower()
        if not host:
            return "the URI has no host"
        if self.allowed_uri_hosts and not _host_matches(host, self.allowed_uri_hosts):
            return f"host '{host}' is not in the allow-list"
        if not self.allow_private_hosts:
            reason = _private_host_reason(host, self.resolve_hostnames)
            if reason:
                return reason
        return None

    def _check_file(self, path: str) -> str | None:
        if self.file_root is None:
            return "file: URIs are not allowed (no file root is configured)"
        root = self.file_root.resolve()
        target = Path(path).resolve()
        if target != root and root not in target.parents:
            return f"file path '{path}' is outside the configured root '{root}'"
        return None


def _host_matches(host: str, allowed: frozenset[str]) -> bool:
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern.startswith("*.") and (host.endswith(pattern[1:]) or host == pattern[2:]):
            return True
        if host == pattern:
            return True
    return False


_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "metadata.google.internal"}


def _private_host_reason(host: str, resolve: bool) -> str | None:
    """Refuse loopback, link-local (cloud metadata), private, reserved and multicast hosts."""
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return f"host '{host}' is a local name"
    addresses: list[str] = []
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        if resolve:
            try:
                addresses = [info[4][0] for info in socket.getaddrinfo(host, None)]
            except OSError:
                return f"host '{host}' does not resolve"
    for raw in addresses:
        ip = ipaddress.ip_address(raw.split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_reserved or ip.is_multicast or ip.is_unspecified:
            return f"host '{host}' is a loopback, link-local or private address"
    return None


DEFAULT_POLICY = ValidationPolicy()
