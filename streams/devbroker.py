"""The embedded Kafka-protocol broker (noida-db) on loopback, for development and the demo.

It is single-node and keeps no retention: production points ``ADSENT_KAFKA_BOOTSTRAP_SERVERS``
at a real Kafka cluster, and then nothing here starts.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from schemas.settings import Settings
from streams.service.membership import process_alive

log = logging.getLogger(__name__)

# Brokers this process started, kept so that `down` can reap them (and Python does not warn
# about a child that outlives its Popen object: the broker is meant to run in the background).
_STARTED: dict[int, subprocess.Popen] = {}


class BrokerError(RuntimeError):
    """The embedded broker cannot be started, reached or stopped; the message says why."""


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    pid: int | None
    address: str
    data_dir: Path
    answering: bool


def broker_binary() -> Path:
    """Path of the noida-db binary shipped inside the ``noida-db`` package."""
    try:
        path = Path(str(importlib.resources.files("noida_db") / "noida-db"))
    except ModuleNotFoundError as exc:
        raise BrokerError("the embedded broker needs the 'noida-db' package: pip install noida-db==0.2.3") from exc
    if not path.exists():
        raise BrokerError(f"the noida-db binary is missing at {path}; reinstall: pip install --force-reinstall noida-db==0.2.3")
    if not os.access(path, os.X_OK):
        raise BrokerError(f"the noida-db binary at {path} is not executable")
    return path


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class EmbeddedBroker:
    """Start, stop and query one noida-db process whose state lives in ``state_dir/broker``."""

    def __init__(self, host: str, port: int, state_dir: Path, start_timeout_s: float = 20.0) -> None:
        self.host = host
        self.port = port
        self.data_dir = (state_dir / "broker").resolve()
        self.start_timeout_s = start_timeout_s

    @classmethod
    def from_settings(cls, settings: Settings) -> "EmbeddedBroker":
        return cls(settings.broker_host, settings.broker_port, settings.state_dir, settings.broker_start_timeout_s)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "broker.log"

    def pid(self) -> int | None:
        """The pid of our broker process when it is alive."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if not process_alive(pid) or not _is_noida(pid):
            return None
        return pid

    def status(self) -> BrokerStatus:
        pid = self.pid()
        return BrokerStatus(pid is not None, pid, self.address, self.data_dir, port_answers(self.host, self.port))

    def up(self) -> BrokerStatus:
        """Start the broker unless it runs already; return once it answers Kafka requests."""
        if self.pid() is not None:
            self.wait_until_ready()
            return self.status()
        if port_answers(self.host, self.port):
            raise BrokerError(
                f"port {self.port} on {self.host} is taken by another process; stop it or choose another port "
                f"with ADSENT_BROKER_PORT (or point ADSENT_KAFKA_BOOTSTRAP_SERVERS at that broker)")
        binary = broker_binary()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [str(binary), "start", "--only", "kafka", "--host", self.host,
                   "--kafka-port", str(self.port), "--data-dir", str(self.data_dir)]
        log.info("starting embedded broker: %s", " ".join(command))
        with open(self.log_file, "ab") as log_stream:
            process = subprocess.Popen(command, stdout=log_stream, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        _STARTED[process.pid] = process
        self.pid_file.write_text(str(process.pid))
        try:
            self.wait_until_ready(process)
        except BrokerError:
            self.down()
            raise
        return self.status()

    def wait_until_ready(self, process: subprocess.Popen | None = None) -> None:
        """Poll until a Kafka metadata request succeeds, or raise with the broker log's tail."""
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        deadline = time.monotonic() + self.start_timeout_s
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise BrokerError(f"the embedded broker exited with code {process.returncode}:\n{self._log_tail()}")
            if port_answers(self.host, self.port, timeout=0.2):
                try:
                    admin = KafkaAdminClient(bootstrap_servers=self.address, request_timeout_ms=2000)
                    admin.list_topics()
                    admin.close()
                    return
                except KafkaError as exc:  # answering the port but not yet the protocol
                    last_error = exc
            time.sleep(0.1)
        raise BrokerError(f"the embedded broker did not answer on {self.address} within {self.start_timeout_s:.0f} s"
                          f" (last error: {last_error}):\n{self._log_tail()}")

    def down(self, timeout_s: float = 10.0) -> bool:
        """Stop the broker with SIGTERM (it saves its data); False when it was not running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        if not _wait_for_exit(pid, timeout_s):
            log.warning("embedded broker %d ignored SIGTERM for %.0f s; killing it", pid, timeout_s)
            os.kill(pid, signal.SIGKILL)
            _wait_for_exit(pid, timeout_s)
        self.pid_file.unlink(missing_ok=True)
        return True

    def reset(self) -> bool:
        """Delete the stopped broker's data: every topic, message and committed offset. False: there was none.

        The broker keeps all it was sent (no retention), and each write costs it more CPU the more it holds.
        """
        pid = self.pid()
        if pid is not None:
            raise BrokerError(f"the embedded broker runs (pid {pid}); stop it first: adsent broker down")
        if not self.data_dir.exists():
            return False
        shutil.rmtree(self.data_dir)
        return True

    def _log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            return "(no broker log)"
        return "\n".join(line for line in text[-lines:] if "GLIBC" not in line)


def _is_noida(pid: int) -> bool:
    """Guard against a recycled pid: only signal a process that is really noida-db."""
    try:
        return "noida-db" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return True  # no /proc (macOS): trust the pid file


def _wait_for_exit(pid: int, timeout_s: float) -> bool:
    """Wait for ``pid`` to exit (reaping it when it is our child); True when it did."""
    process = _STARTED.get(pid)
    if process is not None:
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return False
        del _STARTED[pid]
        return True
    deadline = time.monotonic() + timeout_s
    while process_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
