"""Classify-stage latency per ad, text-only view S and fused view S+N, at several batch sizes.

    python -m streams.bench.classify_views --out runs/bench_classify.json [--batches 1 8] [--repeats 20]

Uses the offline default model (MiniLM-L6 + EfficientNet-Lite0 features) with synthetic feature
vectors of the real shape; writes a JSON with median and p90 milliseconds per ad.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from model.config import ModelConfig
from model.fusion.inputs import compose_context
from model.predict import AdSentimentModel
from model.vision import features_tensor
from schemas.description import Description, ImageInfo, OcrResult, Region, Segment
from schemas.events import AdFeatures, AdHeader

COPY = "Reach for the stars: our new spacesuit is light, comfortable and bright. Order today and save 20%!"
CAPTION = "A mid-toned, warm image in white and red: a person, a flag and a helmet in front of a dark background."
FACE = "A happy woman of about 30, looking at the camera."
OCR = "NASA"


def sample_event(config: ModelConfig, index: int) -> AdFeatures:
    context = f"{CAPTION} [SEP] {FACE} [SEP] {OCR} [SEP]"
    c0, f0 = 0, len(CAPTION) + 7
    o0 = f0 + len(FACE) + 7
    desc = Description(
        image=ImageInfo(width=512, height=512, format="JPEG", sha256="0" * 64), caption=CAPTION, ocr=OcrResult(
            engine="bench", text=OCR),
        regions=tuple(Region(box=(0, 0, 100, 100), score=0.9, label="face", source="face") for _ in range(2)),
        visual_context=context,
        segments=(Segment(name="caption", start=c0, end=len(CAPTION)), Segment(name="face", start=f0, end=f0 + len(FACE)),
                  Segment(name="ocr", start=o0, end=o0 + len(OCR))))
    count = 3 * config.vision.tokens_per_crop
    array = np.random.default_rng(index).standard_normal((count, config.vision.feature_dim)).astype(np.float16)
    ad = AdHeader(ad_id=f"bench-{index}", text=COPY, uploaded_at=datetime.now(timezone.utc) - timedelta(seconds=1))
    return AdFeatures(ad=ad, description=desc, encoder=config.vision.name, features=features_tensor(array))


def time_view(model: AdSentimentModel, events: list[AdFeatures], view: str, repeats: int) -> list[float]:
    """Seconds per ad of forward + CRF (marginals and Viterbi) for one view."""
    net = model.network
    contexts = [compose_context(e.description, model.config.ablation).text for e in events]
    s, sn = model.views.encode_views([e.ad.text for e in events], contexts)
    visual = model._visual_batch(events)
    times = []
    for _ in range(repeats + 2):
        start = time.perf_counter()
        with torch.inference_mode():
            out = net(s, None) if view == "S" else net(sn, visual)
            net.decode(out)
        times.append((time.perf_counter() - start) / len(events))
    return times[2:]  # the first two are warm-up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/bench_classify.json"))
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = ModelConfig.offline_default()
    model = AdSentimentModel.from_config(config, device="cpu")
    results = []
    for batch in tqdm(args.batches, desc="batch sizes"):
        events = [sample_event(config, i) for i in range(batch)]
        for view in ("S", "S+N"):
            ms = [t * 1000 for t in time_view(model, events, view, args.repeats)]
            results.append({"view": view, "batch": batch, "median_ms_per_ad": round(statistics.median(ms), 2),
                            "p90_ms_per_ad": round(float(np.percentile(ms, 90)), 2)})
        start = time.perf_counter()
        model.classify(events)
        results.append({"view": "classify() S+N incl. decoding", "batch": batch,
                        "ms_per_ad": round((time.perf_counter() - start) * 1000 / batch, 2)})
    report = {"model": "offline default (MiniLM-L6, EfficientNet-Lite0 features)", "device": "cpu",
              "threads": args.threads, "cpu": platform.processor() or platform.machine(),
              "torch": torch.__version__, "repeats": args.repeats, "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))  # noqa: T201 - the script's output


if __name__ == "__main__":
    main()
