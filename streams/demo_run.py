"""The moving parts of the demo: which ads to send, and a worker subprocess to send them through."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from schemas import AdUploaded, ImageRef, decode
from schemas.dataset import AdRecord
from schemas.settings import Settings
from streams.client import Follower, Outcome, publish

WORKER_READY_TIMEOUT_S = 300.0


def sample_batch(settings: Settings, ads_jsonl: Path | None, images_dir: Path | None, limit: int, photos: int,
                 broken: bool, run_id: str) -> tuple[list[AdUploaded], list[tuple[str, bytes]]]:
    """Good ads (from a JSONL file and package photos) and raw broken messages, with unique ids."""
    from streams.samples import sample_ads

    good: list[AdUploaded] = []
    if ads_jsonl is not None:
        good.extend(_ads_from_jsonl(ads_jsonl, images_dir, limit, run_id))
    good.extend(sample_ads(photos, prefix=f"photo-{run_id}"))
    bad: list[tuple[str, bytes]] = []
    if broken:
        bad.append((f"broken-{run_id}-1", b'{"schema_version": 1, "ad_id": "broken-1", "text": "no image"}'))
        template = good[0] if good else next(sample_ads(1, prefix=f"tpl-{run_id}"))
        corrupt = template.model_copy(update={"ad_id": f"broken-{run_id}-2", "image": ImageRef(data=b"not an image")})
        bad.append((corrupt.ad_id, corrupt.model_dump_json().encode()))
    return good, bad


def _ads_from_jsonl(path: Path, images_dir: Path | None, limit: int, run_id: str) -> list[AdUploaded]:
    ads = []
    root = images_dir or path.parent
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if len(ads) >= limit:
            break
        if not line.strip():
            continue
        record = decode(line.encode(), AdRecord)
        if record.image is None:
            continue
        image_path = root / record.image
        if not image_path.is_file():
            raise OSError(f"{path}:{number}: image {image_path} is missing (render them with "
                          "`python -m training.data.render_ads --out DIR` and pass --images-dir DIR)")
        ads.append(AdUploaded(ad_id=f"{record.ad_id}-{run_id}", image=ImageRef(data=image_path.read_bytes()),
                              text=record.text, platform="demo", metadata={"source": path.name}))
    return ads


class DemoWorker:
    """`adsent worker` (all stages) in a subprocess, and the client side that feeds and follows it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = settings.metrics_port
        env = {**os.environ, "ADSENT_METRICS_PORT": str(self.port)}
        self.log_path = settings.state_dir / "demo-worker.log"
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")
        adsent = Path(sys.executable).parent / "adsent"
        self.process = subprocess.Popen([str(adsent), "worker"], env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def url(self, path: str) -> str:
        return f"http://{self.settings.metrics_host}:{self.port}{path}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + WORKER_READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited with {self.process.returncode}; its log: {self.log_path}\n"
                                   + self._tail())
            try:
                with urllib.request.urlopen(self.url("/readyz"), timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the worker was not ready after {WORKER_READY_TIMEOUT_S:.0f} s; log: {self.log_path}")

    def run(self, good: list[AdUploaded], bad: list[tuple[str, bytes]], timeout_s: float) -> dict[str, Outcome]:
        """Publish, then print each outcome as it arrives under a progress bar."""
        from tqdm import tqdm

        from streams.client import publish_raw
        from streams.render import outcome_line

        wanted = {ad.ad_id for ad in good} | {key for key, _ in bad}
        follower = Follower(self.settings)
        found: dict[str, Outcome] = {}
        try:
            publish(self.settings, good)
            publish_raw(self.settings, bad)
            deadline = time.monotonic() + timeout_s
            with tqdm(total=len(wanted), unit="ad", desc="outcomes", dynamic_ncols=True) as bar:
                while len(found) < len(wanted) and time.monotonic() < deadline:
                    if self.process.poll() is not None:
                        raise RuntimeError(f"the worker died (exit {self.process.returncode}):\n{self._tail()}")
                    for outcome in follower.outcomes(timeout_s=1.0):
                        if outcome.ad_id in wanted and outcome.ad_id not in found:
                            found[outcome.ad_id] = outcome
                            bar.write(outcome_line(outcome))
                            bar.update(1)
                        if len(found) == len(wanted):
                            break
        finally:
            follower.close()
        return found

    def stop(self, timeout_s: float = 60.0) -> int | None:
        """SIGTERM, so the worker finishes or releases its batch; SIGKILL only if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
        return self.process.returncode

    def _tail(self, lines: int = 25) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
