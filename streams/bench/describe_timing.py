"""Seconds per image of each describe step, on synthetic ads and the packaged photos.

    python -m streams.bench.describe_timing --count 12 [--engine rapidocr|tesseract] --out timings.json
"""

from __future__ import annotations

import argparse
import io
import json
import logging
from pathlib import Path

from tqdm import tqdm

from model.describe import DescribeConfig, Describer, load_image
from training.data.render_ads import generate_ocr_ads


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=12, help="synthetic ads (plus 3 packaged photos)")
    parser.add_argument("--engine", choices=("rapidocr", "tesseract"), default="rapidocr")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    import ultralytics
    from PIL import Image
    from skimage import data

    config = DescribeConfig(ocr_engine=args.engine)
    images = []
    for source in [ad.image for ad in generate_ocr_ads(args.count)] + [Image.fromarray(data.astronaut()), Image.fromarray(data.coffee())]:
        buffer = io.BytesIO()
        source.save(buffer, format="PNG")
        images.append(buffer.getvalue())
    images.append(Path(ultralytics.__file__).parent / "assets" / "zidane.jpg")
    describer = Describer(config)
    describer.describe([load_image(images[0], config)])  # warm-up: loads every model
    totals: dict[str, float] = {}
    for image in tqdm(images, desc="describe"):
        for step, seconds in describer.describe([image])[0].timings.items():
            totals[step] = totals.get(step, 0.0) + seconds
    means = {step: total / len(images) for step, total in totals.items()}
    args.out.write_text(json.dumps({"engine": args.engine, "images": len(images), "seconds_per_image": means}, indent=2))
    print("| step | s/image |\n|---|---|\n" + "\n".join(f"| {k} | {v:.3f} |" for k, v in means.items()))


if __name__ == "__main__":
    main()
