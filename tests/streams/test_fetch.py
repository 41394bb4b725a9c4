"""The image fetcher: pinned connections, the deadline, the byte cap and safe file reads.

Nothing here leaves the machine: host names resolve through a fake resolver, and connections to
the made-up public addresses are carried to servers on loopback (and recorded) by a fake
``socket.create_connection``; any other non-loopback connection is refused before it is made.
"""

from __future__ import annotations

import gzip
import http.server
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from schemas import ImageRef
from schemas.policy import ValidationPolicy
from streams.service.errors import StageError
from streams.service.fetch import fetch_image

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PUBLIC = "93.184.216.34"  # a public address no test ever sends a packet to
OTHER_PUBLIC = "93.184.216.35"
LOOPBACK = "127.0.0.1"

Respond = Callable[[http.server.BaseHTTPRequestHandler], None]


# ---- a loopback HTTP(S) server ---------------------------------------------------------------------

@dataclass
class Server:
    port: int
    requests: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    """``serve(respond, tls=None)``: an HTTP server on loopback answering every GET with ``respond``."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(respond: Respond, tls: ssl.SSLContext | None = None) -> Server:
        record: list[dict[str, str]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                record.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
                try:
                    respond(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        httpd = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
        httpd.daemon_threads = True
        if tls is not None:
            httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(httpd)
        return Server(httpd.server_address[1], record)

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def send(handler: http.server.BaseHTTPRequestHandler, status: int, body: bytes = b"",
         headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def png(handler: http.server.BaseHTTPRequestHandler) -> None:
    send(handler, 200, PNG, {"Content-Type": "image/png"})


# ---- a fake network: names, addresses, connections -------------------------------------------------

@dataclass
class FakeNetwork:
    """Answers for host names (one per lookup, the last repeats; "a,b" answers two addresses) and
    where the made-up public addresses lead."""

    names: dict[str, list[str]] = field(default_factory=dict)
    hosts: dict[str, int] = field(default_factory=dict)  # public address -> loopback port it leads to
    connections: list[tuple[str, int]] = field(default_factory=list)  # every connection asked for


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> FakeNetwork:
    fake = FakeNetwork()
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection

    def getaddrinfo(host, port, *args, **kwargs):
        host = host.decode() if isinstance(host, bytes) else host
        if host in fake.names:
            answers = fake.names[host]
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
            return [info for address in answer.split(",") for info in real_getaddrinfo(address, port, *args, **kwargs)]
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is not in the fake resolver") from None
        return real_getaddrinfo(host, port, *args, **kwargs)

    def create_connection(address, *args, **kwargs):
        host, port = address[0], address[1]
        fake.connections.append((host, port))
        resolved = getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4][0]
        if resolved in fake.hosts:
            return real_connect((LOOPBACK, fake.hosts[resolved]), *args, **kwargs)
        if ipaddress.ip_address(resolved).is_loopback:
            return real_connect((resolved, port), *args, **kwargs)
        raise ConnectionRefusedError(f"the test network does not reach {resolved}")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return fake


def fetch(uri: str, policy: ValidationPolicy | None = None, timeout_s: float = 2.0) -> bytes:
    return fetch_image(ImageRef.model_construct(uri=uri, data=None), policy or ValidationPolicy(), timeout_s)


def fetch_error(uri: str, policy: ValidationPolicy | None = None, timeout_s: float = 2.0) -> StageError:
    with pytest.raises(StageError) as caught:
        fetch(uri, policy, timeout_s)
    return caught.value


LOCAL = ValidationPolicy(allow_private_hosts=True)


# ---- DNS rebinding: one resolution, checked, pinned ------------------------------------------------

def test_rebinding_cannot_reach_loopback(serve, network: FakeNetwork) -> None:
    server = serve(png)
    network.names["ads.example"] = [PUBLIC, LOOPBACK]  # checked as public, then rebound to loopback
    network.hosts[PUBLIC] = server.port

    assert fetch(f"http://ads.example:{server.port}/ad.png") == PNG
    assert network.connections == [(PUBLIC, server.port)], "the connection must go to the checked address"
    assert server.requests[0]["host"] == f"ads.example:{server.port}", "the Host header keeps the name"


def test_every_redirect_hop_is_resolved_checked_and_pinned(serve, network: FakeNetwork) -> None:
    def redirect(handler: http.server.BaseHTTPRequestHandler) -> None:
        target = f"http://cdn.example:{handler.server.server_address[1]}/ad.png"
        send(handler, 200, PNG) if handler.path == "/ad.png" else send(handler, 302, headers={"Location": target})

    server = serve(redirect)
    network.names["ads.example"] = [PUBLIC]
    network.names["cdn.example"] = [OTHER_PUBLIC, LOOPBACK]
    network.hosts.update({PUBLIC: server.port, OTHER_PUBLIC: server.port})

    assert fetch(f"http://ads.example:{server.port}/start") == PNG
    assert network.connections == [(PUBLIC, server.port), (OTHER_PUBLIC, server.port)]

    network.names["cdn.example"] = ["10.1.2.3"]
    network.connections.clear()
    error = fetch_error(f"http://ads.example:{server.port}/start")
    assert error.code == "fetch_refused" and "10.1.2.3" in error.message and not error.transient
    assert network.connections == [(PUBLIC, server.port)], "a refused hop is never connected to"


def test_a_redirect_cannot_lead_to_a_file(serve, tmp_path: Path) -> None:
    (tmp_path / "ad.png").write_bytes(PNG)
    server = serve(lambda handler: send(handler, 302, headers={"Location": (tmp_path / "ad.png").as_uri()}))
    policy = ValidationPolicy(allow_private_hosts=True, file_root=tmp_path)
    error = fetch_error(f"http://{LOOPBACK}:{server.port}/ad.png", policy)
    assert error.code == "fetch_refused" and not error.transient


@pytest.mark.parametrize("answer", ["100.64.0.7", f"{PUBLIC},2002:7f00:1::1", "64:ff9b::a9fe:a9fe"],
                         ids=["cgnat", "one-of-several-is-6to4-loopback", "nat64-metadata"])
def test_a_host_with_any_non_public_address_is_refused(answer: str, network: FakeNetwork) -> None:
    network.names["ads.example"] = [answer]
    error = fetch_error("http://ads.example/ad.png")
    assert error.code == "fetch_refused" and not error.transient
    assert network.connections == []


def test_proxy_variables_cannot_bypass_the_pinning(serve, network: FakeNetwork,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    proxy, origin = serve(png), serve(png)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, f"http://{LOOPBACK}:{proxy.port}")
    network.names["ads.example"] = [PUBLIC]
    network.hosts[PUBLIC] = origin.port

    assert fetch(f"http://ads.example:{origin.port}/ad.png") == PNG
    assert proxy.requests == [] and network.connections == [(PUBLIC, origin.port)]


def self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("openssl is not installed")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "1", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=30)
    return cert, key


def test_tls_verifies_the_host_name_while_connecting_to_the_pinned_address(
        serve, network: FakeNetwork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import streams.service.pinned

    cert, key = self_signed(tmp_path, "ads.example")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server = serve(png, tls=server_context)
    monkeypatch.setattr(streams.service.pinned, "default_ssl_context",
                        lambda: ssl.create_default_context(cafile=str(cert)))
    network.names.update({"ads.example": [PUBLIC, LOOPBACK], "other.example": [PUBLIC]})
    network.hosts[PUBLIC] = server.port

    assert fetch(f"https://ads.example:{server.port}/ad.png") == PNG
    assert network.connections == [(PUBLIC, server.port)]
    error = fetch_error(f"https://other.example:{server.port}/ad.png")  # same address, certificate of another name
    assert error.code == "fetch_failed" and "certificate" in error.message.lower()


# ---- the deadline -----------------------------------------------------------------------------------

def trickle(handler: http.server.BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "100")
    handler.end_headers()
    for _ in range(30):  # 3 s at most, one byte each 0.1 s: every read is well within its timeout
        handler.wfile.write(b"x")
        handler.wfile.flush()
        time.sleep(0.1)


def slow_redirects(handler: http.server.BaseHTTPRequestHandler) -> None:
    time.sleep(0.3)
    send(handler, 302, headers={"Location": f"/{int(handler.path.strip('/') or 0) + 1}"})


@pytest.mark.parametrize("respond", [trickle, slow_redirects], ids=["trickling-body", "slow-redirects"])
def test_the_whole_fetch_ends_at_the_deadline(serve, respond: Respond) -> None:
    server = serve(respond)
    policy = ValidationPolicy(allow_private_hosts=True, fetch_deadline_s=0.5)
    started = time.monotonic()
    error = fetch_error(f"http://{LOOPBACK}:{server.port}/0", policy, timeout_s=1.0)
    assert error.code == "fetch_timeout" and error.transient
    assert time.monotonic() - started < 1.5


# ---- the byte cap -----------------------------------------------------------------------------------

def test_a_compressed_body_is_refused_without_being_inflated(serve) -> None:
    bomb = gzip.compress(b"\x00" * (64 * 1024 * 1024), compresslevel=9)  # about 64 KB on the wire
    server = serve(lambda handler: send(handler, 200, bomb, {"Content-Encoding": "gzip"}))
    policy = ValidationPolicy(allow_private_hosts=True, max_image_bytes=1024 * 1024)

    tracemalloc.start()
    try:
        error = fetch_error(f"http://{LOOPBACK}:{server.port}/bomb.png", policy)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.code == "fetch_refused" and "gzip" in error.message
    assert server.requests[0]["accept-encoding"] == "identity"
    assert peak < 8 * 1024 * 1024, f"{peak} bytes allocated: the body was inflated"


def test_a_body_over_the_cap_is_refused_without_a_content_length(serve) -> None:
    def chunked(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.protocol_version = "HTTP/1.1"
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for _ in range(4):
            handler.wfile.write(b"400\r\n" + b"x" * 1024 + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")

    server = serve(chunked)
    policy = ValidationPolicy(allow_private_hosts=True, max_image_bytes=3000)
    assert fetch_error(f"http://{LOOPBACK}:{server.port}/big.png", policy).code == "image_too_large"


# ---- file: URIs -------------------------------------------------------------------------------------

def file_error(path: Path, policy: ValidationPolicy) -> StageError:
    """The error of fetching ``path``; fails (after unblocking it) if the fetch blocks."""
    outcome: list[BaseException | bytes] = []

    def run() -> None:
        try:
            outcome.append(fetch(path.as_uri(), policy))
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=3)
    if worker.is_alive():
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # a writer that leaves: the read ends
        worker.join(timeout=3)
        pytest.fail(f"fetching {path} blocked")
    (result,) = outcome
    assert isinstance(result, StageError), result
    return result


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "ad.png"
    os.mkfifo(fifo)
    error = file_error(fifo, ValidationPolicy(file_root=tmp_path))
    assert error.code == "fetch_refused" and "regular file" in error.message


def test_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ad.png").mkdir()
    error = file_error(tmp_path / "ad.png", ValidationPolicy(file_root=tmp_path))
    assert error.code == "fetch_refused" and "regular file" in error.message


def test_a_unix_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ad.png"
    if len(str(path)) > 100:
        pytest.skip("the temporary path is too long for a Unix socket")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        error = file_error(path, ValidationPolicy(file_root=tmp_path))
    assert error.code == "fetch_refused" and "regular file" in error.message


def test_a_regular_file_is_read_up_to_the_cap(tmp_path: Path) -> None:
    policy = ValidationPolicy(file_root=tmp_path, max_image_bytes=len(PNG))
    (tmp_path / "ad.png").write_bytes(PNG)
    (tmp_path / "big.png").write_bytes(PNG + b"x")
    assert fetch((tmp_path / "ad.png").as_uri(), policy) == PNG
    assert file_error(tmp_path / "big.png", policy).code == "image_too_large"
    assert file_error(tmp_path / "missing.png", policy).code == "fetch_not_found"
