"""``adsent schemas ...``: export and check the events' JSON Schemas."""

from __future__ import annotations

from pathlib import Path

import typer

from schemas.cli_support import fail

app = typer.Typer(help="Event JSON Schemas: export them or check the committed ones.", no_args_is_help=True)


@app.command("export")
def export(directory: Path = typer.Argument(Path("schemas/json"), help="Where to write <Event>.schema.json files.")) -> None:
    """Write one JSON Schema file per event into DIRECTORY."""
    from schemas.export import export_schemas

    for path in export_schemas(directory):
        typer.echo(f"wrote {path}")


@app.command("check")
def check(directory: Path = typer.Argument(Path("schemas/json"), help="Directory holding the exported files.")) -> None:
    """Exit 1 when the files in DIRECTORY differ from the models."""
    from schemas.export import stale_schemas

    stale = stale_schemas(directory)
    if stale:
        fail(f"stale JSON Schemas in {directory}: {', '.join(stale)}; run `adsent schemas export {directory}`")
    typer.echo(f"{directory}: up to date")
