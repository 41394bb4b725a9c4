"""Run ads through the model in this process, as ``adsent predict`` does, keeping failures as dead letters.

A batch that fails is run again ad by ad, so one bad image fails alone; the ad's dead letter names
the stage that failed and the code the stream stages would give it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from schemas import AdSentiment, AdUploaded, DeadLetter
from schemas.events import DEAD_LETTER_MESSAGE_MAX
from streams.report.entries import Outcome


def run_ads(model: Any, ads: Sequence[AdUploaded], batch_size: int,
            on_ads: Callable[[int], None] | None = None) -> list[Outcome]:
    """One outcome per ad, in order: its ``AdSentiment``, or a ``DeadLetter`` when it failed."""
    outcomes: list[Outcome] = []
    for first in range(0, len(ads), batch_size):
        batch = list(ads[first:first + batch_size])
        try:
            outcomes.extend(model.predict(batch))
        except Exception:  # noqa: BLE001 - the batch is run again ad by ad, which names the failure
            outcomes.extend(_one(model, ad) for ad in batch)
        if on_ads is not None:
            on_ads(len(batch))
    return outcomes


def _one(model: Any, ad: AdUploaded) -> AdSentiment | DeadLetter:
    from streams.service.errors import classify_exception

    stage = "describe"
    try:
        described, seconds = model.describe_ads([ad])
        stage = "features"
        events = model.encode_ads([ad], described, seconds)
        stage = "classify"
        return model.classify(events)[0]
    except Exception as exc:  # noqa: BLE001 - any failure of one ad becomes its dead letter
        error = classify_exception(exc)
        return DeadLetter(ad_id=ad.ad_id, stage=stage, code=error.code, message=error.message[:DEAD_LETTER_MESSAGE_MAX],
                          exception_type=error.exception_type[:256])
