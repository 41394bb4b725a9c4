"""How well faces are read: ``python -m training.data.adcorpus.faces PREDICTIONS.jsonl``.

Reads the predictions that ``adsent evaluate --dataset ads --predictions FILE`` writes and reports,
for the ads showing a real photo (by photo, and for the photos with a clear expression), whether
the face was found and whether a face attribute with the right sentiment was emitted; template
face sentences are reported apart (they teach the tagger to read face text but prove little).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from training.data.adcorpus.stats import load_records
from training.data.render_ads import PERSON_PHOTOS, digest


def photo_of(ad_id: str):  # noqa: ANN201
    """The photo drawn into an ad's image (the renderer's choice)."""
    return PERSON_PHOTOS[digest(ad_id)[3] % len(PERSON_PHOTOS)]


def face_report(rows: list[dict]) -> dict:
    """Per kind of face (each photo, clear photos, templates): ads, right sentiment, none found."""
    records = {r.ad_id: r for rs in load_records().values() for r in rs}
    groups: dict[str, dict[str, int]] = defaultdict(lambda: {"ads": 0, "right": 0, "no_face_attribute": 0})
    for row in rows:
        record = records.get(row["id"])
        gold = [g for g in row["gold"] if g[1] == "face"]
        if record is None or not gold:
            continue
        predicted = [p for p in row["predicted"] if p[1] == "face"]
        right = any(p[2] == gold[0][2] for p in predicted)
        if record.template_segments:
            names = ["template face sentences"]
        else:
            photo = photo_of(record.ad_id)
            names = [f"photo: {photo.source} ({photo.person}, {photo.expression})", "real photos, all"]
            if photo.clear:
                names.append("real photos with a clear expression")
        for name in names:
            groups[name]["ads"] += 1
            groups[name]["right"] += right
            groups[name]["no_face_attribute"] += not predicted
    return {name: {**counts, "accuracy": counts["right"] / counts["ads"]} for name, counts in sorted(groups.items())}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("predictions", type=Path, nargs="+", help="files written by adsent evaluate --predictions")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for path in args.predictions for line in path.read_text().splitlines() if line.strip()]
    print("| faces | ads | sentiment right | no face attribute |")
    print("|---|---|---|---|")
    for name, figures in face_report(rows).items():
        print(f"| {name} | {figures['ads']} | {figures['right']} ({100 * figures['accuracy']:.0f} %) | "
              f"{figures['no_face_attribute']} |")


if __name__ == "__main__":
    main()
