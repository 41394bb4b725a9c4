"""Build the adcorpus split files from the writers' sources: ``python -m training.data.adcorpus.build``.

``source/main/<category>.jsonl`` becomes train and dev (a stable 12 % of each category to dev, by
a hash of the text), ``source/wording/`` the unseen-wording ``test`` split and
``source/heldout/`` the unseen-category ``test_category`` split. Each ad gets the image-side
labels of the guidelines: the slogan's aspects on the OCR segment, a face (a real photo drawn
into the image, or a template face sentence) and the caption's dominant colour. Every choice is
a function of the ad id, so a rebuild gives the same files; a test checks the committed ones.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from model.describe.colors import colour_name
from schemas.dataset import AdRecord, AspectRecord, GeneratedSnapshot
from schemas.description import Expression, HeadPose
from training.data.adcorpus import ADCORPUS_DIR, SOURCE_DIR, SPLITS
from training.data.adcorpus.check import check_ad, resolve_spans
from training.data.jsonl import write_jsonl
from training.data.render_ads import PERSON_PHOTOS, digest, palette

log = logging.getLogger(__name__)

#: Source folder -> split (main is divided into train and dev).
GROUPS = {"main": "train", "wording": "test", "heldout": "test_category"}
DEV_PERCENT = 12
#: Expression -> sentiment of a face label (GUIDELINES.md).
EXPRESSION_SENTIMENT: dict[Expression, str] = {
    "happy": "positive", "sad": "negative", "angry": "negative", "fear": "negative", "disgust": "negative",
    "neutral": "neutral", "surprise": "neutral"}
#: Overall sentiment of an ad -> the expressions a template face of that ad usually shows.
FITTING_EXPRESSIONS: dict[str, tuple[Expression, ...]] = {
    "positive": ("happy",), "negative": ("sad", "angry", "fear", "disgust"), "neutral": ("neutral", "surprise")}
ALL_EXPRESSIONS: tuple[Expression, ...] = tuple(EXPRESSION_SENTIMENT)


@dataclass(frozen=True)
class FaceShares:
    """How often an ad gets a face: a real photo or a template sentence (shares of [0, 1))."""

    photo_if_people: float = 0.45
    template_if_people: float = 0.4
    template_otherwise: float = 0.12
    fitting_expression: float = 0.6  # template faces whose expression fits the ad's overall sentiment


def _unit(seed: bytes, index: int) -> float:
    return seed[index] / 256


#: Share of images drawn in the mood of the ad's overall sentiment (the others in another mood), so
#: that the image hints at the overall label as real ads do, without giving it away.
FITTING_MOOD = 0.6


def image_mood(ad_id: str, overall: str) -> str:
    """The mood (a sentiment) an ad's image is drawn in, which its caption label carries."""
    seed = digest(ad_id)
    if _unit(seed, 24) < FITTING_MOOD:
        return overall
    others = [s for s in ("positive", "neutral", "negative") if s != overall]
    return others[seed[25] % 2]


def template_face(seed: bytes, overall: str, shares: FaceShares) -> tuple[str, Expression]:
    """A face sentence in the describe stage's own format, and its expression."""
    from model.describe.faces import face_sentence

    pool = FITTING_EXPRESSIONS[overall] if _unit(seed, 10) < shares.fitting_expression else ALL_EXPRESSIONS
    expression = pool[seed[11] % len(pool)]
    gender = ("female", "male", "unknown")[seed[12] % 3]
    age = None if seed[13] % 5 == 0 else 16 + seed[14] % 60
    pose = HeadPose(yaw=(0, 0, 35, -35)[seed[15] % 4], pitch=(0, 0, 0, 25, -25)[seed[16] % 5], roll=0)
    return face_sentence({"gender": gender, "age": age, "expression": expression, "pose": pose}), expression


def face_labels(ad_id: str, people: bool, overall: str, shares: FaceShares = FaceShares()) -> tuple[
        str | None, str | None, bool]:
    """``(face text, sentiment, is_template)`` of an ad's face, or Nones when it has none.

    A real photo's label is what a person sees in it (``PERSON_PHOTOS``); its snapshot text is a
    nominal sentence with the person word the anchor looks for.
    """
    seed = digest(ad_id)
    u = _unit(seed, 9)
    if people and u < shares.photo_if_people:
        photo = PERSON_PHOTOS[seed[3] % len(PERSON_PHOTOS)]
        return f"a {photo.person} with {photo.expression} expression", EXPRESSION_SENTIMENT[photo.expression], False
    template_share = shares.photo_if_people + shares.template_if_people if people else shares.template_otherwise
    if u < template_share:
        text, expression = template_face(seed, overall, shares)
        return text, EXPRESSION_SENTIMENT[expression], True
    return None, None, False


def face_term(text: str) -> tuple[int, int, str]:
    """Where the person word of a face sentence is (what a face label tags)."""
    from training.anchors import PERSON_PATTERN

    found = PERSON_PATTERN.search(text)
    return found.start(), found.end(), found.group(0)


def build_record(ad: dict, ad_id: str, category: str) -> AdRecord:
    """The AdRecord of one authored ad, with its image-side labels."""
    overall = {"pos": "positive", "neu": "neutral", "neg": "negative"}[ad["overall"]]
    aspects = [AspectRecord(start=s, end=e, term=t, sentiment=sent, dimension=dim)
               for s, e, t, sent, dim in resolve_spans(ad["text"], ad["aspects"])[0]]
    slogan = ad["slogan"]
    aspects += [AspectRecord(start=s, end=e, term=t, sentiment=sent, segment="ocr", dimension="text")
                for s, e, t, sent, _ in resolve_spans(slogan, ad["slogan_aspects"])[0]]
    mood = image_mood(ad_id, overall)
    colour = colour_name(palette(category, mood, digest(ad_id))["background"])
    caption = f"an image in {colour}"
    aspects.append(AspectRecord(start=len("an image in "), end=len(caption), term=colour,
                                sentiment=mood, segment="caption", dimension="color"))
    face_text, face_sentiment, templated = face_labels(ad_id, bool(ad.get("people")), overall)
    if face_text is not None:
        start, end, term = face_term(face_text)
        aspects.append(AspectRecord(start=start, end=end, term=term, sentiment=face_sentiment, segment="face",
                                    dimension="face"))
    return AdRecord(ad_id=ad_id, image=f"images/{ad_id}.png", text=ad["text"], aspects=aspects, overall=overall,
                    category=category, tones=ad["tones"],
                    generated=GeneratedSnapshot(caption=caption, face=face_text, ocr=slogan),
                    template_segments=["face"] if templated else [])


def is_dev(text: str) -> bool:
    return int(hashlib.sha256(" ".join(text.lower().split()).encode()).hexdigest(), 16) % 100 < DEV_PERCENT


def read_source(path: Path) -> list[dict]:
    ads = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        ad = json.loads(line)
        problems = check_ad(ad)
        if problems:
            raise ValueError(f"{path}:{number}: {'; '.join(problems)} (run training/data/adcorpus/check.py)")
        ads.append(ad)
    return ads


def build(source: Path = SOURCE_DIR) -> dict[str, list[AdRecord]]:
    """Records of every split, in category then source order."""
    splits: dict[str, list[AdRecord]] = {name: [] for name in SPLITS}
    for group, split in GROUPS.items():
        for path in sorted((source / group).glob("*.jsonl")):
            category = path.stem.replace("_", " ")
            for number, ad in enumerate(read_source(path)):
                ad_id = f"{path.stem.replace('_', '-')}-{group[0]}{number:03d}"
                target = "dev" if split == "train" and is_dev(ad["text"]) else split
                splits[target].append(build_record(ad, ad_id, category))
    return splits


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build adcorpus {train,dev,test,test_category}.jsonl from source/.")
    parser.add_argument("--out", type=Path, default=ADCORPUS_DIR, help="directory of the split files")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for split, records in build().items():
        count = write_jsonl(records, args.out / f"{split}.jsonl")
        log.info("%s: %d ads", split, count)


if __name__ == "__main__":
    main()
