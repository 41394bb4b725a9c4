"""Train/serve parity of the describe stage: a checkpoint records the describe configuration that
produced N_z at training time (``describe.json``), and serving uses it.

What the model reads (caption, faces, OCR text, regions) depends on the describe configuration:
OCR engine and language, captioner, region detector, and every size and threshold of
:class:`DescribeConfig`. Serving builds its configuration from the checkpoint's record; the
runtime fields (device, intake caps, threads, timeouts) still come from the settings. An
environment that explicitly asks for a different value (``ADSENT_OCR_ENGINE=tesseract`` for a
model trained on RapidOCR) is refused with a message naming each field, unless
``ADSENT_DESCRIBE_OVERRIDE=true``: then the environment wins, a warning is logged and the
worker's ``adsent_describe_config_overridden`` gauge is 1 for each such field.

Face attributes are the exception in one direction: switching one off (``ADSENT_FACE_AGE=false``
against a model trained with ages) only removes information, so it is served without the
override, with a warning that face texts differ from those the model was trained on. Switching
on an attribute the model was trained without is a mismatch like any other.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

from model.describe.config import DescribeConfig

log = logging.getLogger(__name__)
DESCRIBE_RECORD = "describe.json"
# Fields that change how the stage runs (where, how fast, what it refuses), not what it says.
RUNTIME_FIELDS = ("device", "max_image_bytes", "max_image_pixels", "max_image_decoded_bytes", "formats",
                  "ocr_threads", "ocr_timeout_s")
# Face attributes a setting may switch off against the record without the override (privacy).
FACE_ATTRIBUTE_FIELDS = ("face_expression", "face_age", "face_gender")
# Content fields an ADSENT_* setting can choose (setting name -> DescribeConfig field).
SETTING_FIELDS = {"ocr_engine": "ocr_engine", "ocr_language": "ocr_language", "captioner": "captioner",
                  "detector_weights": "detector_weights", **{name: name for name in FACE_ATTRIBUTE_FIELDS}}
# A record written before the face attributes were separate: its ``age_gender`` held both.
_LEGACY_AGE_GENDER = "age_gender"


class DescribeMismatchError(RuntimeError):
    """The environment asks for describe settings the checkpoint was not trained with."""

    def __init__(self, checkpoint: Path, mismatches: dict[str, tuple[Any, Any]]) -> None:
        self.mismatches = mismatches
        listed = "; ".join(f"ADSENT_{name.upper()} is {env!r}, the model was trained with {trained!r}"
                           for name, (trained, env) in sorted(mismatches.items()))
        super().__init__(f"describe settings differ from {checkpoint / DESCRIBE_RECORD}: {listed}. The model would "
                         "read texts it was not trained on: unset them, or set ADSENT_DESCRIBE_OVERRIDE=true")


def describe_record(config: DescribeConfig) -> dict[str, Any]:
    """The content fields of ``config`` as JSON values (runtime fields left out)."""
    values = {k: v for k, v in asdict(config).items() if k not in RUNTIME_FIELDS}
    return json.loads(json.dumps(values, default=str))


def save_describe_record(directory: str | Path, config: DescribeConfig) -> Path:
    """Write ``describe.json`` (the describe configuration the model's N_z came from) into a checkpoint."""
    path = Path(directory) / DESCRIBE_RECORD
    path.write_text(json.dumps(describe_record(config), indent=2, sort_keys=True))
    return path


def load_describe_record(directory: str | Path | None) -> dict[str, Any] | None:
    """A checkpoint's record; None for no checkpoint, a text-only one, or one trained before records."""
    if directory is None:
        return None
    path = Path(directory) / DESCRIBE_RECORD
    return json.loads(path.read_text()) if path.is_file() else None


def _typed(record: dict[str, Any]) -> dict[str, Any]:
    """Record values in the dataclass's Python types (tuples, paths); unknown fields dropped."""
    known = {f.name for f in fields(DescribeConfig)}
    values = {k: v for k, v in record.items() if k in known}
    legacy = record.get(_LEGACY_AGE_GENDER)
    if legacy is not None:  # an older record: expression was always on, age and gender went together
        values.setdefault("face_expression", True)
        values.setdefault("face_age", legacy)
        values.setdefault("face_gender", legacy)
    for key, value in values.items():
        if isinstance(value, list):
            values[key] = tuple(value)
    if values.get("detector_weights") is not None:
        values["detector_weights"] = Path(values["detector_weights"])
    return values


def config_from_record(record: dict[str, Any] | None, base: DescribeConfig) -> DescribeConfig:
    """``base`` with the content fields of a checkpoint's record (``base`` itself without one)."""
    return base if record is None else replace(base, **_typed(record))


def serving_describe_config(settings: Any, checkpoint: str | Path | None,
                            override: bool | None = None) -> tuple[DescribeConfig, dict[str, tuple[Any, Any]]]:
    """The describe configuration to serve ``checkpoint`` with, and the fields overridden by the
    environment (``{field: (trained, served)}``; empty unless ``override``)."""
    from_env = DescribeConfig.from_settings(settings)
    record = load_describe_record(checkpoint)
    if record is None:
        if checkpoint is not None:
            log.info("%s records no describe configuration (text-only, or trained before records): "
                     "describing with the settings", checkpoint)
        return from_env, {}
    trained = config_from_record(record, from_env)
    explicit = getattr(settings, "model_fields_set", set())
    mismatches, withheld = {}, []
    for setting, field in SETTING_FIELDS.items():
        env_value, trained_value = getattr(from_env, field), getattr(trained, field)
        if setting not in explicit or env_value == trained_value:
            continue
        if field in FACE_ATTRIBUTE_FIELDS and not env_value:
            withheld.append(field)
        else:
            mismatches[setting] = (_plain(trained_value), _plain(env_value))
    if withheld:
        log.warning("face attributes switched off that %s was trained with (%s): its face texts will differ from "
                    "training, and face-related quality may drop", checkpoint, ", ".join(withheld))
        trained = replace(trained, **{field: False for field in withheld})
    if not mismatches:
        return trained, {}
    if not (settings.describe_override if override is None else override):
        raise DescribeMismatchError(Path(checkpoint), mismatches)
    log.warning("serving with describe settings the model was not trained with (ADSENT_DESCRIBE_OVERRIDE): %s",
                ", ".join(f"{k} {t!r} -> {e!r}" for k, (t, e) in sorted(mismatches.items())))
    return replace(trained, **{SETTING_FIELDS[k]: getattr(from_env, SETTING_FIELDS[k]) for k in mismatches}), mismatches


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value
