"""The three stages as plain batch functions: bytes in, events or dead letters out.

No Faust here: agents call :meth:`Stage.run` off the event loop, and tests call it directly.
Every record that enters comes out as exactly one :class:`Emitted` or :class:`Failed`, in order.
A failure of the batched model call is isolated by retrying each ad singly; transient errors
are retried with exponential backoff before they become dead letters.
"""

from __future__ import annotations

import hashlib
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from schemas import (AdDescribed, AdFeatures, AdHeader, AdSentiment, AdUploaded, DeadLetter, SchemaError, SourceRef,
                     decode, encode)
from schemas.base import StageName
from schemas.settings import Settings
from streams.service.errors import StageError, classify_exception
from streams.service.letters import dead_letter
from streams.service.metrics import Metrics, platform_label

log = logging.getLogger(__name__)

In = TypeVar("In", bound=BaseModel)
Prepared = TypeVar("Prepared")


@dataclass(frozen=True)
class InRecord:
    """One message as read from Kafka."""

    value: bytes
    key: bytes | None = None
    source: SourceRef | None = None
    replays: int = 0  # how often replay sent this message back (the adsent-replays header)


@dataclass(frozen=True)
class Emitted:
    """An outgoing event and its encoded bytes (encoded here, off the event loop)."""

    ad_id: str
    event: BaseModel
    value: bytes
    digest: str | None = None  # what the ad consisted of, for de-duplicating results (see Stage.content_digest)


@dataclass(frozen=True)
class Failed:
    dead_letter: DeadLetter
    value: bytes


Result = Emitted | Failed


@dataclass
class _Item(Generic[In, Prepared]):
    index: int
    record: InRecord
    event: In
    prepared: Prepared | None = None


class Stage(ABC, Generic[In, Prepared]):
    """Decode -> prepare each ad -> infer the batch -> finish each ad, each step timed."""

    name: ClassVar[StageName]
    input_model: ClassVar[type[BaseModel]]
    fetches: ClassVar[bool] = False  # whether prepare() downloads images (bounded by the fetch deadline)

    def __init__(self, settings: Settings, metrics: Metrics, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.metrics = metrics
        self.policy = settings.validation_policy()
        self._sleep = sleep

    # --- what each stage defines -------------------------------------------------------------
    @abstractmethod
    def prepare(self, event: In) -> Prepared:
        """Per-ad pre-processing (fetch, decode); raises for this ad only."""

    @abstractmethod
    def infer(self, events: Sequence[In], prepared: Sequence[Prepared]) -> list[Any]:
        """The batched model call, one output per ad."""

    @abstractmethod
    def finish(self, event: In, output: Any, seconds: float) -> BaseModel:
        """Build the outgoing event for one ad."""

    def warm_up(self) -> None:
        """Load models and run them once, so the first real batch is not slow."""

    def content_digest(self, event: In) -> str | None:
        """A digest of the ad's image and copy; results are de-duplicated per ad id and digest."""
        return None

    @staticmethod
    def ad_id_of(event: BaseModel) -> str:
        return event.ad_id if hasattr(event, "ad_id") else event.ad.ad_id  # type: ignore[attr-defined]

    # --- the engine ------------------------------------------------------------------------------
    def run(self, records: Sequence[InRecord]) -> list[Result]:
        started = time.perf_counter()
        self.metrics.messages_in.labels(self.name).inc(len(records))
        self.metrics.batch_size.labels(self.name).observe(len(records))
        results: list[Result | None] = [None] * len(records)

        items: list[_Item] = []
        with self._timed("pre"):
            for index, record in enumerate(records):
                try:
                    event = decode(record.value, self.input_model, self.policy)
                except SchemaError as exc:
                    results[index] = self._failed(record, None, classify_exception(exc), attempts=1)
                    continue
                item = _Item(index, record, event)
                prepared, error, attempts = self._with_retries(lambda: self.prepare(event), item)
                if error is None:
                    item.prepared = prepared
                    items.append(item)
                else:
                    results[index] = self._failed(record, item.event, error, attempts)

        outputs = self._infer_isolating(items, results)

        with self._timed("post"):
            seconds = time.perf_counter() - started
            for item, output in outputs:
                try:
                    event = self.finish(item.event, output, seconds)
                    value = encode(event)
                    if len(value) > self.settings.kafka_max_message_bytes:
                        raise StageError("output_too_large", f"the {type(event).__name__} event has {len(value)} "
                                         f"bytes; ADSENT_KAFKA_MAX_MESSAGE_BYTES is {self.settings.kafka_max_message_bytes}")
                except Exception as exc:  # noqa: BLE001 - a bad output becomes a dead letter, never a crash
                    results[item.index] = self._failed(item.record, item.event, classify_exception(exc), 1)
                    continue
                results[item.index] = Emitted(self.ad_id_of(item.event), event, value,
                                              self.content_digest(item.event))
                self.metrics.messages_out.labels(self.name).inc()
        assert all(result is not None for result in results), "every record must end as a result"
        return results  # type: ignore[return-value]

    def _infer_isolating(self, items: list[_Item], results: list[Result | None]) -> list[tuple[_Item, Any]]:
        """Infer the whole batch; if that fails, each ad alone (with retries) so one bad ad fails alone."""
        if not items:
            return []
        with self._timed("infer"):
            if len(items) > 1:
                try:
                    outputs = self.infer([i.event for i in items], [i.prepared for i in items])
                    if len(outputs) != len(items):
                        raise RuntimeError(f"{self.name}: {len(outputs)} outputs for {len(items)} inputs")
                    return list(zip(items, outputs))
                except Exception as exc:  # noqa: BLE001 - isolated below, never swallowed
                    log.warning("%s: batch of %d failed (%s); retrying each ad alone", self.name, len(items), exc)
            done = []
            for item in items:
                outputs, error, attempts = self._with_retries(lambda: self.infer([item.event], [item.prepared]), item)
                if error is None:
                    done.append((item, outputs[0]))
                else:
                    results[item.index] = self._failed(item.record, item.event, error, attempts)
            return done

    def _with_retries(self, call: Callable[[], Any], item: _Item) -> tuple[Any, StageError | None, int]:
        """Run ``call``; transient errors are retried with backoff. Returns (value, error, attempts)."""
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                return call(), None, attempt
            except Exception as exc:  # noqa: BLE001 - classified below, never swallowed
                error = classify_exception(exc)
                if not error.transient or attempt == self.settings.max_attempts:
                    return None, error, attempt
                self.metrics.retries.labels(self.name, error.code).inc()
                delay = self.settings.retry_backoff_s * (2 ** (attempt - 1))
                log.info("%s: %s on ad %s, retry %d in %.2f s", self.name, error.code,
                         self.ad_id_of(item.event), attempt, delay)
                self._sleep(delay)
        raise AssertionError("unreachable")

    def fail_all(self, records: Sequence[InRecord], error: StageError) -> list[Result]:
        """Every record as a dead letter with ``error`` (when the engine itself failed)."""
        return [self._failed(record, None, error, attempts=1) for record in records]

    def _failed(self, record: InRecord, event: BaseModel | None, error: StageError, attempts: int) -> Failed:
        # The payload rides along unless the encoded letter would be too large for Kafka; then it is
        # left out (the source reference still points at the original) and the message is cut.
        letter, value = dead_letter(
            self.settings.kafka_max_message_bytes, ad_id=self.ad_id_of(event) if event is not None
            else _key_text(record.key), stage=self.name, code=error.code, message=error.message,
            exception_type=error.exception_type, attempts=attempts, payload=record.value, source=record.source,
            replays=record.replays)
        self.metrics.messages_failed.labels(self.name, letter.code).inc()
        log.warning("%s: ad %s dead-lettered: [%s] %s", self.name, letter.ad_id, letter.code, letter.message)
        return Failed(letter, value)

    def _timed(self, step: str):
        return _StepTimer(self.metrics, self.name, step)


class _StepTimer:
    def __init__(self, metrics: Metrics, stage: str, step: str) -> None:
        self.histogram = metrics.step_seconds.labels(stage, step)

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.histogram.observe(time.perf_counter() - self.started)


def content_digest(*parts: str) -> str:
    """A short, stable digest of what an ad consisted of (its image hash and copy)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _key_text(key: bytes | None) -> str | None:
    if not key:
        return None
    return key.decode("utf-8", errors="replace")[:256]


def _with_stage_time(stage_seconds: dict[str, float], stage: str, seconds: float) -> dict[str, float]:
    return {**stage_seconds, stage: round(seconds, 6)}


# --- the three stages ------------------------------------------------------------------------------
class _ImageStage(Stage[In, Prepared]):
    """A stage that reads the ad's pixels with the describe stage's intake rules."""

    def __init__(self, settings: Settings, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(settings, metrics, **kwargs)
        from model.resolve import serving_describer_config

        # the served checkpoint's describe configuration (train/serve parity); a conflicting
        # environment raises DescribeMismatchError unless ADSENT_DESCRIBE_OVERRIDE is set
        self.describe_config, overridden = serving_describer_config(settings)
        for setting in overridden:
            metrics.describe_overridden.labels(setting).set(1)

    def decode_image(self, data: bytes) -> Any:
        """``data`` as a ``LoadedImage``; refused or undecodable images raise."""
        from model.describe import load_image

        return load_image(data, self.describe_config)


class DescribeStage(_ImageStage[AdUploaded, Any]):
    """ads.uploaded -> ads.described: image to caption, faces and OCR text (paper Section 2.1).

    The only stage that fetches: the validated bytes it described travel on in ``AdDescribed.image``.
    """

    name = "describe"
    input_model = AdUploaded
    fetches = True

    def __init__(self, settings: Settings, metrics: Metrics, describer: Any = None, **kwargs: Any) -> None:
        super().__init__(settings, metrics, **kwargs)
        from model.describe import Describer

        self.describer = describer if describer is not None else Describer(self.describe_config)

    def prepare(self, event: AdUploaded) -> tuple[bytes, Any]:
        from streams.service.fetch import fetch_image

        data = fetch_image(event.image, self.policy, self.settings.image_fetch_timeout_s)
        return data, self.decode_image(data)

    def infer(self, events: Sequence[AdUploaded], prepared: Sequence[tuple[bytes, Any]]) -> list[tuple[bytes, Any]]:
        from model.pipeline import describe

        described = describe(self.describer, [loaded for _, loaded in prepared])
        return [(data, item.description) for (data, _), item in zip(prepared, described)]

    def finish(self, event: AdUploaded, output: tuple[bytes, Any], seconds: float) -> AdDescribed:
        data, description = output
        return AdDescribed(ad=AdHeader.of(event), image=data, description=description,
                           stage_seconds=_with_stage_time({}, self.name, seconds))

    def warm_up(self) -> None:
        from streams.demo.samples import photo_jpeg

        self.describer.describe([photo_jpeg("astronaut")])


class FeaturesStage(_ImageStage[AdDescribed, Any]):
    """ads.described -> ads.features: multi-scale visual features D_1..D_e (Eq. 5-6), from the
    image bytes the describe stage passed on (nothing is fetched here)."""

    name = "features"
    input_model = AdDescribed

    def __init__(self, settings: Settings, metrics: Metrics, extractor: Any = None, **kwargs: Any) -> None:
        super().__init__(settings, metrics, **kwargs)
        if extractor is None:
            from model.resolve import load_feature_extractor

            extractor = load_feature_extractor(settings)
        self.extractor = extractor

    def prepare(self, event: AdDescribed) -> Any:
        return self.decode_image(event.image).image

    def infer(self, events: Sequence[AdDescribed], prepared: Sequence[Any]) -> list[Any]:
        from model.pipeline import encode

        return encode(self.extractor, prepared, [e.description for e in events])

    def finish(self, event: AdDescribed, output: Any, seconds: float) -> AdFeatures:
        from model.vision import features_tensor

        return AdFeatures(ad=event.ad, description=event.description, encoder=self.extractor.name,
                          features=features_tensor(output),
                          stage_seconds=_with_stage_time(event.stage_seconds, self.name, seconds))

    def warm_up(self) -> None:
        from streams.demo.samples import photo_jpeg

        from model.pipeline import encode

        loaded = self.decode_image(photo_jpeg("coffee"))
        encode(self.extractor, [loaded.image], [_blank_description(loaded.info)])


class ClassifyStage(Stage[AdFeatures, AdFeatures]):
    """ads.features -> ads.sentiment: the fused BERT + CRF (Eq. 4-12)."""

    name = "classify"
    input_model = AdFeatures

    def __init__(self, settings: Settings, metrics: Metrics, model: Any = None, **kwargs: Any) -> None:
        super().__init__(settings, metrics, **kwargs)
        if model is None:
            from model.resolve import load_sentiment_model

            model = load_sentiment_model(settings)
        self.model = model

    def prepare(self, event: AdFeatures) -> AdFeatures:
        return event

    def content_digest(self, event: AdFeatures) -> str | None:
        return content_digest(event.description.image.sha256, event.ad.text)

    def infer(self, events: Sequence[AdFeatures], prepared: Sequence[AdFeatures]) -> list[AdSentiment]:
        from model.pipeline import classify

        return classify(self.model, prepared, max_padding=self.settings.classify_max_padding)

    def finish(self, event: AdFeatures, output: AdSentiment, seconds: float) -> AdSentiment:
        if output.ad_id != event.ad.ad_id:
            raise StageError("model_error", f"result for {output.ad_id} returned for ad {event.ad.ad_id}")
        result = output.model_copy(update={"stage_seconds": _with_stage_time(event.stage_seconds, self.name, seconds)})
        self.metrics.end_to_end.observe(result.end_to_end_seconds)
        platform = platform_label(event.ad.platform, self.settings.metrics_platforms)
        self.metrics.overall.labels(sentiment=result.overall.label, platform=platform).inc()
        for attribute in result.attributes:
            self.metrics.sentiments.labels(sentiment=attribute.sentiment, dimension=attribute.dimension,
                                           platform=platform).inc()
        return result


def _blank_description(info: Any) -> Any:
    """A description with no texts and no regions, for warming the feature extractor up."""
    from schemas import Description, OcrResult

    return Description(image=info, caption="", ocr=OcrResult(engine="none", text=""), visual_context="")


# the implementation of each stage of schemas.pipeline.PIPELINE, in its order
STAGES: dict[str, type[Stage]] = {"describe": DescribeStage, "features": FeaturesStage, "classify": ClassifyStage}
