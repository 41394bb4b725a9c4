"""JSON Schema files of the events, committed under ``schemas/json`` and checked by a test."""

from __future__ import annotations

import json
from pathlib import Path

from schemas import EVENTS

JSON_DIR = Path(__file__).parent / "json"


def render_schemas() -> dict[str, str]:
    """File name -> JSON Schema text of every event (validation mode: what a producer must send)."""
    files = {}
    for name, model in EVENTS.items():
        schema = model.model_json_schema(mode="validation")
        schema["$id"] = f"https://adsent.dev/schemas/{name}.schema.json"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        files[f"{name}.schema.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return files


def export_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in render_schemas().items():
        path = directory / filename
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_schemas(directory: Path = JSON_DIR) -> list[str]:
    """Names of the files under ``directory`` that differ from the models (or are missing)."""
    stale = []
    for filename, text in render_schemas().items():
        path = directory / filename
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(filename)
    return stale
