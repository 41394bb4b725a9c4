"""Fetch an ad image from its ``ImageRef``: inline bytes, a ``file:`` URI under the root, or HTTP(S)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from schemas import ImageRef
from schemas.policy import ValidationPolicy
from streams.service.errors import StageError

MAX_REDIRECTS = 3


def fetch_image(ref: ImageRef, policy: ValidationPolicy, timeout_s: float) -> bytes:
    """The image bytes. Refused, missing and oversized images raise permanent ``StageError``s;
    network failures and server errors raise transient ones."""
    if ref.data is not None:
        return ref.data
    assert ref.uri is not None  # ImageRef guarantees exactly one source
    scheme = urlsplit(ref.uri).scheme.lower()
    if scheme == "file":
        return _read_file(ref.uri, policy)
    return _fetch_http(ref.uri, policy, timeout_s)


def _refuse_unless_allowed(uri: str, policy: ValidationPolicy) -> None:
    # Re-checked at fetch time with DNS resolution: a public name may point at a private address.
    reason = replace(policy, resolve_hostnames=True).check_uri(uri)
    if reason:
        raise StageError("fetch_refused", f"{uri}: {reason}")


def _read_file(uri: str, policy: ValidationPolicy) -> bytes:
    _refuse_unless_allowed(uri, policy)
    path = Path(unquote(urlsplit(uri).path)).resolve()  # symlinks resolved before the root check
    _refuse_unless_allowed(path.as_uri(), policy)
    try:
        size = path.stat().st_size
        if size > policy.max_image_bytes:
            raise StageError("image_too_large", f"{path} has {size} bytes; the cap is {policy.max_image_bytes}")
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise StageError("fetch_not_found", f"{path} does not exist") from exc
    except OSError as exc:
        raise StageError("fetch_failed", f"cannot read {path}: {exc}") from exc


def _fetch_http(uri: str, policy: ValidationPolicy, timeout_s: float) -> bytes:
    import httpx

    with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            _refuse_unless_allowed(uri, policy)
            try:
                with client.stream("GET", uri) as response:
                    if response.is_redirect and "location" in response.headers:
                        uri = str(response.url.join(response.headers["location"]))
                        continue
                    if response.status_code >= 500 or response.status_code == 429:
                        raise StageError("fetch_failed", f"{uri}: HTTP {response.status_code}", transient=True)
                    if response.status_code >= 400:
                        raise StageError("fetch_not_found", f"{uri}: HTTP {response.status_code}")
                    return _read_capped(response, uri, policy.max_image_bytes)
            except httpx.TransportError as exc:
                raise StageError("fetch_failed", f"{uri}: {type(exc).__name__}: {exc}", transient=True) from exc
    raise StageError("fetch_refused", f"more than {MAX_REDIRECTS} redirects")


def _read_capped(response, uri: str, cap: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise StageError("image_too_large", f"{uri} declares {declared} bytes; the cap is {cap}")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise StageError("image_too_large", f"{uri} is larger than the cap of {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
