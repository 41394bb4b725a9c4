"""The moving parts of the demo: which ads to send, and a worker subprocess to send them through."""

from __future__ import annotations

import time
from pathlib import Path

from schemas import AdUploaded, ImageRef, decode
from schemas.base import utc_now
from schemas.dataset import AdRecord
from schemas.pipeline import ALL_STAGES
from schemas.settings import Settings
from streams.ops.client import Follower, Outcome, publish
from streams.ops.worker_process import WorkerProcess

WORKER_READY_TIMEOUT_S = 300.0


def sample_batch(settings: Settings, ads_jsonl: Path | None, images_dir: Path | None, limit: int, photos: int,
                 broken: bool, run_id: str) -> tuple[list[AdUploaded], list[tuple[str, bytes]]]:
    """Good ads (from a JSONL file and package photos) and raw broken messages, with unique ids."""
    from streams.demo.samples import sample_ads

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
    """Up to ``limit`` ads with an image, spread evenly over the file (so over its categories)."""
    root = images_dir or path.parent
    lines = [(n, line) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if line.strip()]
    step = max(1, len(lines) // limit) if limit else 1
    ads = []
    for number, line in lines[::step]:
        if len(ads) >= limit:
            break
        record = decode(line.encode(), AdRecord)
        if record.image is None:
            continue
        image_path = root / record.image
        if not image_path.is_file():
            raise OSError(f"{path}:{number}: image {image_path} is missing (render them with "
                          "`python -m training.data.render_ads --data DIR --out IMAGES` and pass --images-dir IMAGES)")
        ads.append(AdUploaded(ad_id=f"{record.ad_id}-{run_id}", image=ImageRef(data=image_path.read_bytes()),
                              text=record.text, platform="demo", metadata={"source": path.name}))
    return ads


class DemoWorker:
    """An all-stages worker subprocess, and the client side that feeds and follows it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.worker = WorkerProcess(settings, ALL_STAGES, settings.state_dir / "demo-worker.log",
                                    port=settings.metrics_port)

    def url(self, path: str) -> str:
        return self.worker.url(path)

    def wait_ready(self) -> None:
        self.worker.wait_ready(WORKER_READY_TIMEOUT_S)

    def run(self, good: list[AdUploaded], bad: list[tuple[str, bytes]], timeout_s: float) -> dict[str, Outcome]:
        """Publish, then print each outcome as it arrives under a progress bar."""
        from tqdm import tqdm

        from streams.ops.client import publish_raw
        from streams.ops.render import outcome_line

        wanted = {ad.ad_id for ad in good} | {key for key, _ in bad}
        follower = Follower(self.settings)
        found: dict[str, Outcome] = {}
        try:
            # Stamp the upload time now: the ads were built before the worker finished warming up.
            good = [ad.model_copy(update={"uploaded_at": utc_now()}) for ad in good]
            publish(self.settings, good)
            publish_raw(self.settings, bad)
            deadline = time.monotonic() + timeout_s
            with tqdm(total=len(wanted), unit="ad", desc="outcomes", dynamic_ncols=True) as bar:
                while len(found) < len(wanted) and time.monotonic() < deadline:
                    self.worker.check_alive()
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

    def stop(self) -> int | None:
        return self.worker.stop()


def write_demo_report(good: list[AdUploaded], bad: list[tuple[str, bytes]], outcomes: dict[str, Outcome],
                      path: Path) -> Path:
    """The explain report of every outcome the demo received, in publishing order, with the images
    it published (a broken ad's image comes from its dead letter's payload, when decodable)."""
    from streams.report import entries_of, write_report

    order = [ad.ad_id for ad in good] + [key for key, _ in bad]
    events = [outcomes[ad_id].result or outcomes[ad_id].dead_letter for ad_id in order if ad_id in outcomes]
    return write_report(entries_of(events, {ad.ad_id: ad for ad in good}), path)
