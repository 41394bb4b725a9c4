"""``/metrics``, ``/healthz`` and ``/readyz`` over HTTP, served from a thread beside the worker."""

from __future__ import annotations

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streams.service.metrics import Metrics

log = logging.getLogger(__name__)


class Health:
    """Liveness and readiness state, updated by the worker.

    Live: while models load, always; afterwards, the event loop ticked within ``stall_after_s``
    (a stuck loop starves heartbeats).
    Ready: the models are warm and the broker answered within ``stall_after_s``.
    """

    def __init__(self, metrics: Metrics, stall_after_s: float = 30.0) -> None:
        self.metrics = metrics
        self.stall_after_s = stall_after_s
        self.models_warm = False
        self._last_tick: float | None = None
        self._last_broker_ok: float | None = None

    def tick(self) -> None:
        self._last_tick = time.monotonic()

    def broker_checked(self, answered: bool) -> None:
        """Record a broker probe and refresh the ready gauge (it drops to 0 once the broker is gone)."""
        if answered:
            self._last_broker_ok = time.monotonic()
        self.metrics.ready.set(1 if self.ready()[0] else 0)

    def live(self) -> tuple[bool, str]:
        if self._last_tick is None:
            return True, "starting (loading models, joining the group)"
        age = time.monotonic() - self._last_tick
        return (age < self.stall_after_s, f"event loop ticked {age:.1f} s ago")

    def ready(self) -> tuple[bool, str]:
        if not self.models_warm:
            return False, "models are loading"
        if self._last_broker_ok is None:
            return False, "the broker has not answered yet"
        age = time.monotonic() - self._last_broker_ok
        if age >= self.stall_after_s:
            return False, f"the broker last answered {age:.1f} s ago"
        return self.live()


class HealthServer:
    """A small threaded HTTP server; ``port=0`` picks a free port (see :attr:`port`)."""

    def __init__(self, host: str, port: int, health: Health) -> None:
        handler = _handler_for(health)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="adsent-health", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> "HealthServer":
        self._thread.start()
        log.info("serving /metrics, /healthz, /readyz on port %d", self.port)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_for(health: Health) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?")[0]
            if path == "/metrics":
                self._send(200, generate_latest(health.metrics.registry), CONTENT_TYPE_LATEST)
            elif path in ("/healthz", "/readyz"):
                ok, why = health.live() if path == "/healthz" else health.ready()
                self._send(200 if ok else 503, f"{'ok' if ok else 'not ok'}: {why}\n".encode(), "text/plain")
            else:
                self._send(404, b"not found: try /metrics, /healthz or /readyz\n", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - scrapes are not news
            log.debug("health: " + format, *args)

    return Handler
