"""The committed JSON Schema files must match the models."""

from __future__ import annotations

import json

from schemas.export import JSON_DIR, export_schemas, render_schemas, stale_schemas


def test_committed_json_schemas_are_current() -> None:
    stale = stale_schemas(JSON_DIR)
    assert not stale, f"stale JSON Schemas {stale}: run `adsent schemas export schemas/json`"


def test_export_writes_valid_json(tmp_path) -> None:
    paths = export_schemas(tmp_path)
    assert {p.name for p in paths} == set(render_schemas())
    for path in paths:
        schema = json.loads(path.read_text())
        assert schema["$schema"].startswith("https://json-schema.org/")


def test_a_changed_file_is_reported(tmp_path) -> None:
    export_schemas(tmp_path)
    (tmp_path / "AdUploaded.schema.json").write_text("{}")
    assert stale_schemas(tmp_path) == ["AdUploaded.schema.json"]
