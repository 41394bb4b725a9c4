"""Fetch an ad image from its ``ImageRef``: inline bytes, a ``file:`` URI under the root, or HTTP(S).

Error codes: ``fetch_refused`` (the policy forbids the URI, a host or one of its addresses, a
non-regular file, a compressed body; permanent), ``fetch_not_found`` (missing file, HTTP 4xx;
permanent), ``image_too_large`` (over ``max_image_bytes``; permanent), ``fetch_failed`` (network
error, HTTP 5xx or 429; transient) and ``fetch_timeout`` (the whole fetch outlasted the policy's
``fetch_deadline_s``; transient).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from schemas import ImageRef
from schemas.policy import HostRefused, ValidationPolicy
from streams.service.errors import StageError
from streams.service.pinned import Deadline, PinnedBackend, PinnedTransport

MAX_REDIRECTS = 3
READ_CHUNK_BYTES = 1 << 20
# Image formats are compressed already; asking for nothing else keeps httpx from inflating a body.
REQUEST_HEADERS = {"Accept-Encoding": "identity"}


def fetch_image(ref: ImageRef, policy: ValidationPolicy, timeout_s: float) -> bytes:
    """The image bytes. ``timeout_s`` bounds each network operation, ``policy.fetch_deadline_s``
    the whole fetch. Refused, missing and oversized images raise permanent ``StageError``s;
    network failures, server errors and the deadline raise transient ones."""
    if ref.data is not None:
        return ref.data
    assert ref.uri is not None  # ImageRef guarantees exactly one source
    scheme = urlsplit(ref.uri).scheme.lower()
    if scheme == "file":
        return _read_file(ref.uri, policy)
    return _fetch_http(ref.uri, policy, timeout_s)


def _refuse_unless_allowed(uri: str, policy: ValidationPolicy) -> None:
    reason = policy.check_uri(uri)
    if reason:
        raise StageError("fetch_refused", f"{uri}: {reason}")


# ---- file: -----------------------------------------------------------------------------------------

def _read_file(uri: str, policy: ValidationPolicy) -> bytes:
    _refuse_unless_allowed(uri, policy)
    path = Path(unquote(urlsplit(uri).path)).resolve()  # symlinks resolved before the root check
    _refuse_unless_allowed(path.as_uri(), policy)
    # O_NONBLOCK: opening a FIFO does not wait for a writer; O_NOFOLLOW: a symlink swapped in
    # after the root check is refused. The opened file itself is checked and read: no race.
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError as exc:
        raise StageError("fetch_not_found", f"{path} does not exist") from exc
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO):  # a symlink; a socket or a device without driver
            raise StageError("fetch_refused", f"{path} is not a regular file") from exc
        raise StageError("fetch_failed", f"cannot open {path}: {exc}") from exc
    try:
        return _read_regular_file(fd, path, policy.max_image_bytes)
    finally:
        os.close(fd)


def _read_regular_file(fd: int, path: Path, cap: int) -> bytes:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise StageError("fetch_refused", f"{path} is not a regular file (a FIFO, device, directory or socket)")
    if info.st_size > cap:
        raise StageError("image_too_large", f"{path} has {info.st_size} bytes; the cap is {cap}")
    try:
        data = _read_at_most(fd, cap + 1)
    except OSError as exc:
        raise StageError("fetch_failed", f"cannot read {path}: {exc}") from exc
    if len(data) > cap:  # the file grew after fstat
        raise StageError("image_too_large", f"{path} is larger than the cap of {cap} bytes")
    return data


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit:
        chunk = os.read(fd, min(READ_CHUNK_BYTES, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


# ---- HTTP(S) --------------------------------------------------------------------------------------

def _fetch_http(uri: str, policy: ValidationPolicy, timeout_s: float) -> bytes:
    deadline = Deadline(policy.fetch_deadline_s)
    backend = PinnedBackend(deadline)
    with httpx.Client(transport=PinnedTransport(backend), timeout=timeout_s, follow_redirects=False,
                      trust_env=False, headers=REQUEST_HEADERS) as client:
        for _ in range(MAX_REDIRECTS + 1):
            url = _checked_and_pinned(uri, policy, backend)
            try:
                with client.stream("GET", url) as response:
                    if response.is_redirect and "location" in response.headers:
                        uri = str(response.url.join(response.headers["location"]))
                        continue
                    return _body(response, uri, policy.max_image_bytes)
            except httpx.TransportError as exc:
                raise _transport_failure(uri, exc, deadline) from exc
    raise StageError("fetch_refused", f"more than {MAX_REDIRECTS} redirects")


def _checked_and_pinned(uri: str, policy: ValidationPolicy, backend: PinnedBackend) -> httpx.URL:
    """``uri`` parsed, allowed by the policy, its host resolved once and every address checked and
    pinned: the connection goes to an address checked here."""
    _refuse_unless_allowed(uri, policy)
    try:
        url = httpx.URL(uri)
    except httpx.InvalidURL as exc:
        raise StageError("fetch_refused", f"{uri}: not a valid URL: {exc}") from exc
    if url.scheme not in ("http", "https"):  # a redirect to file: under the root, say
        raise StageError("fetch_refused", f"{uri}: a redirect may lead only to http or https")
    if backend.deadline.expired:
        raise _timed_out(uri, backend.deadline)
    host = url.raw_host.decode("ascii")  # the name httpcore asks the backend to connect to
    try:
        backend.pin(host, policy.allowed_addresses(host))
    except HostRefused as exc:
        raise StageError("fetch_refused", f"{uri}: {exc}") from exc
    return url


def _body(response: httpx.Response, uri: str, cap: int) -> bytes:
    if response.status_code >= 500 or response.status_code == 429:
        raise StageError("fetch_failed", f"{uri}: HTTP {response.status_code}", transient=True)
    if response.status_code >= 400:
        raise StageError("fetch_not_found", f"{uri}: HTTP {response.status_code}")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise StageError("fetch_refused", f"{uri}: Content-Encoding '{encoding}' refused (identity was asked for)")
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise StageError("image_too_large", f"{uri} declares {declared} bytes; the cap is {cap}")
    return _capped(response.iter_raw(), uri, cap)


def _capped(chunks: Iterable[bytes], uri: str, cap: int) -> bytes:
    kept, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > cap:
            raise StageError("image_too_large", f"{uri} is larger than the cap of {cap} bytes")
        kept.append(chunk)
    return b"".join(kept)


def _transport_failure(uri: str, exc: httpx.TransportError, deadline: Deadline) -> StageError:
    if isinstance(exc, httpx.TimeoutException) and deadline.expired:
        return _timed_out(uri, deadline)
    return StageError("fetch_failed", f"{uri}: {type(exc).__name__}: {exc}", transient=True)


def _timed_out(uri: str, deadline: Deadline) -> StageError:
    return StageError("fetch_timeout", f"{uri}: the fetch took over {deadline.seconds:g} s", transient=True)
