"""``/metrics``, ``/healthz`` and ``/readyz`` over HTTP, served from a thread beside the worker."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streams.service.metrics import Metrics

log = logging.getLogger(__name__)


class Health:
    """Liveness and readiness state, updated by the worker.

    Live: while models load, always; afterwards, the event loop ticked within ``stall_after_s``
    (a stuck loop starves heartbeats) and no stage has been in one batch longer than its deadline
    (a stage thread stuck in a model or a fetch holds its partitions without progress).
    Ready: the models are warm and the broker answered within ``stall_after_s``.
    """

    def __init__(self, metrics: Metrics, stall_after_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.metrics = metrics
        self.stall_after_s = stall_after_s
        self.models_warm = False
        self._clock = clock
        self._last_tick: float | None = None
        self._last_broker_ok: float | None = None
        self._batches: dict[str, tuple[float, float]] = {}  # stage -> (started, deadline_s)

    @contextmanager
    def batch(self, stage: str, deadline_s: float) -> Iterator[None]:
        """Mark ``stage`` as inside a batch; liveness fails once it stays there past ``deadline_s``."""
        self._batches[stage] = (self._clock(), deadline_s)
        try:
            yield
        finally:
            self._batches.pop(stage, None)

    def tick(self) -> None:
        self._last_tick = self._clock()

    def broker_checked(self, answered: bool) -> None:
        """Record a broker probe and refresh the ready gauge (it drops to 0 once the broker is gone)."""
        if answered:
            self._last_broker_ok = self._clock()
        self.metrics.ready.set(1 if self.ready()[0] else 0)

    def batches_in_flight(self) -> list[str]:
        """The stages that are inside a batch right now."""
        return sorted(self._batches)

    def live(self) -> tuple[bool, str]:
        now = self._clock()
        for stage, (started, deadline_s) in list(self._batches.items()):
            if now - started > deadline_s:
                return False, f"the {stage} stage has been in one batch for {now - started:.0f} s (deadline {deadline_s:.0f} s)"
        if self._last_tick is None:
            return True, "starting (loading models, joining the group)"
        age = now - self._last_tick
        return (age < self.stall_after_s, f"event loop ticked {age:.1f} s ago")

    def ready(self) -> tuple[bool, str]:
        if not self.models_warm:
            return False, "models are loading"
        if self._last_broker_ok is None:
            return False, "the broker has not answered yet"
        age = self._clock() - self._last_broker_ok
        if age >= self.stall_after_s:
            return False, f"the broker last answered {age:.1f} s ago"
        return self.live()


class HealthServer:
    """A small threaded HTTP server; ``port=0`` picks a free port (see :attr:`port`)."""

    def __init__(self, host: str, port: int, health: Health, socket_timeout_s: float = 10.0) -> None:
        handler = _handler_for(health, socket_timeout_s)
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


def _handler_for(health: Health, socket_timeout_s: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = socket_timeout_s  # a client that connects and sends nothing cannot hold a thread

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
