"""``adsent describe IMAGE... [--text COPY] [--json]``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from schemas.cli_support import fail, settings_of


def describe_command(
    ctx: typer.Context,
    images: Annotated[list[Path], typer.Argument(
        help="Image files (JPEG, PNG, WebP, GIF, BMP; TIFF when ADSENT_IMAGE_FORMATS lists it).", exists=True,
        dir_okay=False)],
    text: Annotated[str | None, typer.Option("--text", help="Ad copy; printed with N_z as the model input.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One Description JSON object per line.")] = False,
) -> None:
    """Describe ad images: caption (Z), faces (F), OCR text (P), top-C regions and N_z = Z [SEP] F [SEP] P [SEP]."""
    from model.describe import DescribeConfig, Describer, ImageError, load_image

    config = DescribeConfig.from_settings(settings_of(ctx))
    describer = Describer(config)
    failed = 0
    for path in images:
        try:
            description = describer.describe([load_image(path, config)])[0]
        except ImageError as exc:
            typer.secho(f"{path}: {exc.code}: {exc.message}", fg=typer.colors.RED, err=True)
            failed += 1
            continue
        if as_json:
            record = json.loads(description.model_dump_json())
            if text is not None:
                record["text"] = text
                record["model_input"] = f"{text} {config.sep} {description.visual_context}"
            typer.echo(json.dumps(record, ensure_ascii=False))
            continue
        typer.secho(f"{path}  ({description.image.width}x{description.image.height} {description.image.format})", bold=True)
        typer.echo(f"  caption: {description.caption}")
        for face in description.faces:
            feeling = f" ({face.expression} {face.expression_score:.2f})" if face.expression is not None else ""
            typer.echo(f"  face {face.confidence:.2f}: {face.text}{feeling}")
        typer.echo("  text: " + (description.ocr.text.replace("\n", " / ") or "(none)"))
        typer.echo("  regions: " + ", ".join(f"{r.label} {r.score:.2f}" for r in description.regions))
        typer.echo(f"  N_z: {description.visual_context}")
        if text is not None:
            typer.echo(f"  model input: {text} {config.sep} {description.visual_context}")
        typer.echo("  timings (s): " + ", ".join(f"{k} {v:.3f}" for k, v in description.timings.items()))
    if failed:
        fail(f"{failed} of {len(images)} images could not be described", code=1)
