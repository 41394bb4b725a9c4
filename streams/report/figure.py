"""The ad image with its faces, OCR lines and regions outlined, and the same boxes as a list.

The image is embedded as a downscaled JPEG data URI; boxes are positioned in percent of the
described image, so they scale with it. Without the image, the boxes go on a blank canvas of the
image's size; without an evidence block, the boxes are "not recorded".
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from html import escape

from schemas.evidence import Evidence, FaceEvidence, PixelBox, RegionEvidence
from streams.report.config import ReportConfig

KINDS = ("face", "ocr", "region")


@dataclass(frozen=True)
class Box:
    """One outlined box: its kind, a short tag drawn on the image and a full description."""

    kind: str
    number: int
    box: PixelBox
    tag: str
    description: str


def embedded_jpeg(data: bytes, config: ReportConfig) -> str | None:
    """The upright image, downscaled, as a JPEG data URI; None when it cannot be decoded."""
    from model.describe import ImageError, load_image

    try:
        image = load_image(data).image.copy()
    except ImageError:
        return None
    image.thumbnail((config.image_max_side, config.image_max_side))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=config.image_quality, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def face_words(face: FaceEvidence) -> str:
    """'happy, about 31 years, female' from the attributes that were estimated."""
    words = [face.expression or "", f"about {face.age} years" if face.age is not None else "",
             face.gender if face.gender not in (None, "unknown") else ""]
    return ", ".join(w for w in words if w) or "no attributes estimated"


def boxes_of(evidence: Evidence, ocr_lines: list[str]) -> list[Box]:
    """Every face, OCR line and region of an evidence block, labelled."""
    boxes = []
    for n, face in enumerate(evidence.faces, start=1):
        pose = (f"; head yaw {face.pose[0]}°, pitch {face.pose[1]}°, roll {face.pose[2]}°" if face.pose else "")
        boxes.append(Box("face", n, face.box, f"Face {n}: {face_words(face)}", f"{face_words(face)}{pose}"))
    for n, box in enumerate(evidence.ocr_boxes, start=1):
        text = ocr_lines[n - 1] if n <= len(ocr_lines) else ""
        quoted = f"“{text}”" if text else "(text not recorded)"
        boxes.append(Box("ocr", n, box, f"Text {n}: {_short(text) if text else ''}".rstrip(": "), f"OCR line {quoted}"))
    for n, region in enumerate(evidence.regions, start=1):
        boxes.append(Box("region", n, region.box, f"Region {n}: {region.label}", _region_words(region)))
    return boxes


def _region_words(region: RegionEvidence) -> str:
    return f"{region.label} (found by {region.source}); its crop is encoded as visual vectors"


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _position(box: PixelBox, width: int, height: int) -> str:
    x0, y0, x1, y1 = (max(0.0, min(1.0, v / size)) * 100 for v, size in zip(box, (width, height, width, height)))
    return f"left:{x0:.1f}%;top:{y0:.1f}%;width:{max(x1 - x0, 0.2):.1f}%;height:{max(y1 - y0, 0.2):.1f}%"


def figure_html(ad_id: str, image_uri: str | None, evidence: Evidence | None, ocr_lines: list[str],
                image_note: str, boxes_expected: bool = True) -> str:
    """The figure: image (or canvas) with outlined boxes, and the boxes as a list for reading.

    ``boxes_expected`` is False for a dead letter: it never has boxes, so none are said to be missing.
    """
    boxes = boxes_of(evidence, ocr_lines) if evidence is not None else []
    counts = {kind: sum(b.kind == kind for b in boxes) for kind in KINDS}
    outlined = (f"{plural(counts['face'], 'face')}, {plural(counts['ocr'], 'text line')} and "
                f"{plural(counts['region'], 'region')} outlined"
                if evidence is not None else "boxes not recorded" if boxes_expected else "no boxes")
    not_recorded = " Boxes: not recorded (this result carries no evidence block)." if boxes_expected else ""
    if image_uri is None and evidence is None:
        return f'<figure class="shot"><p class="missing">Image: {escape(image_note)}.{not_recorded}</p></figure>'
    ratio = f"aspect-ratio:{evidence.width}/{evidence.height};" if evidence is not None else ""
    if image_uri is not None:
        picture = f'<img src="{image_uri}" alt="Ad image of {escape(ad_id)}; {outlined}, listed below.">'
    else:
        picture = (f'<div class="canvas" role="img" aria-label="No image for {escape(ad_id)} (image '
                   f'{escape(image_note)}); {outlined} on a blank canvas of its size.">'
                   f"<span>Image {escape(image_note)}</span></div>")
    drawn = "".join(
        f'<div class="box {b.kind}" data-kind="{b.kind}" data-number="{b.number}" '
        f'style="{_position(b.box, evidence.width, evidence.height)}">'
        f'<span class="tag">{escape(b.tag)}</span></div>' for b in boxes) if evidence is not None else ""
    legend = "".join(
        f'<li class="{b.kind}" data-kind="{b.kind}"><b>{escape(b.tag.split(":")[0])}</b>: {escape(b.description)} '
        f'<span class="px">[{b.box[0]},{b.box[1]}–{b.box[2]},{b.box[3]}]</span></li>' for b in boxes)
    listing = (f'<ol class="legend">{legend}</ol>' if legend else
               "<p class=\"missing\">No faces, text lines or regions were found.</p>" if evidence is not None else
               f'<p class="missing">{not_recorded.strip()}</p>' if boxes_expected else "")
    return (f'<figure class="shot"><div class="stage" style="{ratio}">{picture}{drawn}</div>'
            f"<figcaption>{listing}</figcaption></figure>")
