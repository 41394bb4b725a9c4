"""An httpx transport that connects only to addresses checked beforehand, within one deadline.

The fetcher resolves a host once, checks every address, and pins them here: the connection goes
to a checked address (no second DNS lookup a rebinding server could answer differently), while
the request keeps the host name in its URL, so the Host header, TLS SNI and certificate checks
use the name. Every connect, TLS handshake, read and write is cut short at the deadline.
"""

from __future__ import annotations

import functools
import ssl
import time
import typing

import httpcore
import httpx


class Deadline:
    """A point in time (monotonic clock) after which network operations fail."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = time.monotonic() + seconds

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self._at

    def clamp(self, timeout: float | None, error: type[httpcore.TimeoutException]) -> float:
        """``timeout`` shortened to the time left; ``error`` when none is left."""
        left = self._at - time.monotonic()
        if left <= 0:
            raise error(f"the fetch deadline of {self.seconds:g} s has passed")
        return left if timeout is None else min(timeout, left)


class PinnedBackend(httpcore.NetworkBackend):
    """Opens TCP connections only to the addresses pinned for a host name; never resolves one."""

    def __init__(self, deadline: Deadline, inner: httpcore.NetworkBackend | None = None) -> None:
        self.deadline = deadline
        self._inner = inner or httpcore.SyncBackend()
        self._pins: dict[str, tuple[str, ...]] = {}

    def pin(self, host: str, addresses: tuple[str, ...]) -> None:
        """Connections to ``host`` (as it appears in the URL) go to ``addresses``, in order."""
        self._pins[host] = addresses

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None) -> httpcore.NetworkStream:
        addresses = self._pins.get(host)
        if not addresses:
            raise httpcore.ConnectError(f"no checked address for host '{host}'")
        options = list(socket_options or ())
        failure: Exception | None = None
        for address in addresses:
            limit = self.deadline.clamp(timeout, httpcore.ConnectTimeout)
            try:
                stream = self._inner.connect_tcp(address, port, limit, local_address, options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return DeadlineStream(stream, self.deadline)
        assert failure is not None
        raise failure

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None
                            ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("image fetches do not use Unix sockets")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation ends by the deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        limit = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, limit), self._deadline)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


@functools.lru_cache(maxsize=1)
def default_ssl_context() -> ssl.SSLContext:
    """httpx's verifying context (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), built once."""
    return httpx.create_ssl_context()


class PinnedTransport(httpx.HTTPTransport):
    """httpx's HTTP/1.1 transport, connecting through a :class:`PinnedBackend`, never through a proxy."""

    def __init__(self, backend: PinnedBackend, ssl_context: ssl.SSLContext | None = None) -> None:
        context = ssl_context or default_ssl_context()
        super().__init__(verify=context, trust_env=False)
        # httpx 0.28 takes no network backend: swap in the pool it builds, made with ours.
        self._pool = httpcore.ConnectionPool(ssl_context=context, network_backend=backend)
