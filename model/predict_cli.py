"""``adsent predict``: describe, encode and classify ad images in this process (no Kafka).

The options, the model loading and the image-to-upload step are shared with ``adsent explain``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from schemas.cli_support import fail, settings_of

if TYPE_CHECKING:
    from schemas.events import AdUploaded
    from schemas.policy import ValidationPolicy
    from schemas.settings import Settings

CheckpointOption = Annotated[Path | None, typer.Option(
    help="Trained adsent checkpoint directory. Default: ADSENT_CHECKPOINT_DIR, else the trained "
         "starter model (`adsent train --starter`); with neither, the command refuses.")]
UntrainedOption = Annotated[bool, typer.Option(
    "--untrained", help="Serve the offline backbones with untrained heads (smoke tests; tags are meaningless).")]
BatchSizeOption = Annotated[int, typer.Option(min=1, help="Ads per forward pass.")]


def serving_model(settings: Settings, checkpoint: Path | None, untrained: bool) -> Any:
    """The served model with the describe stage it was trained with (see ``model.resolve``)."""
    from model.describe import Describer
    from model.resolve import load_sentiment_model, serving_describer_config

    model = load_sentiment_model(settings, checkpoint, untrained)
    model.use_describer(Describer(serving_describer_config(settings, checkpoint, untrained)[0]))
    return model


def uploads_of(images: list[Path], text: str, policy: ValidationPolicy) -> list[AdUploaded]:
    """One inline upload per image file; the ad id is the file's stem and a digest of its bytes."""
    import hashlib

    from schemas.events import AdUploaded, ImageRef

    ads = []
    for path in images:
        data = path.read_bytes()
        ad_id = f"{path.stem[:40] or 'image'}-{hashlib.sha256(data).hexdigest()[:12]}"
        ads.append(AdUploaded.model_validate(
            {"ad_id": "".join(c if c.isalnum() or c in "._:-" else "-" for c in ad_id).lstrip("-._:") or "ad",
             "image": ImageRef(data=data), "text": text, "platform": "cli"},
            context={"policy": policy}))
    return ads


def predict_errors() -> tuple[type[BaseException], ...]:
    """The errors that end ``predict`` and ``explain`` with a message instead of a traceback."""
    from pydantic import ValidationError

    from model.describe.parity import DescribeMismatchError
    from model.fusion.errors import ModelError
    from model.resolve import NoModelError

    return ModelError, NoModelError, DescribeMismatchError, ValidationError, ValueError, OSError


def predict_command(
    ctx: typer.Context,
    images: Annotated[list[Path], typer.Argument(help="Ad image files (JPEG, PNG, WebP, ...).", exists=True,
                                                 dir_okay=False, readable=True)],
    text: Annotated[str, typer.Option("--text", "-t", help="The ad copy S shown with the image(s).")] = "",
    checkpoint: CheckpointOption = None,
    untrained: UntrainedOption = False,
    json_lines: Annotated[bool, typer.Option("--json", help="Print one AdSentiment JSON object per line.")] = False,
    batch_size: BatchSizeOption = 8,
) -> None:
    """Tag each IMAGE (with --text as its ad copy) with attribute-level sentiment."""
    settings = settings_of(ctx)
    try:
        model = serving_model(settings, checkpoint, untrained)
        ads = uploads_of(images, text, settings.validation_policy())
        for first in range(0, len(ads), batch_size):
            for result in model.predict(ads[first:first + batch_size]):
                typer.echo(result.model_dump_json() if json_lines else _summary(result))
    except predict_errors() as exc:
        fail(str(exc))


def _summary(result) -> str:  # noqa: ANN001
    lines = [f"{result.ad_id}: overall {result.overall.label} ({result.overall.scores[result.overall.label]:.2f})"]
    for a in result.attributes:
        lines.append(f"  {a.sentiment:8s} {a.term!r} [{a.segment}, {a.dimension}] {a.confidence:.2f}")
    if result.concepts:
        lines.append("  concepts: " + ", ".join(f"{c.anp} {c.score:.2f}" for c in result.concepts))
    return "\n".join(lines)
