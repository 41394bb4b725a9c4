"""One logging policy for every entry point: our loggers at the configured level, third-party
libraries at WARNING (their load reports, model paths and connection chatter) unless verbose."""

from __future__ import annotations

import logging

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that log routine work at INFO (or, for transformers, an expected load report at WARNING).
THIRD_PARTY = ("kafka", "aiokafka", "faust", "mode", "urllib3", "httpx", "httpcore", "huggingface_hub",
               "sentence_transformers", "ultralytics", "PIL", "filelock", "RapidOCR")
# transformers reports, as a WARNING, the pooler weights a sentence-transformers checkpoint lacks: expected here.
LOUD_THIRD_PARTY = ("transformers",)
_verbose = False


def configure_logging(level: str = "INFO", verbose: bool = False) -> None:
    """Root handler at ``level`` (DEBUG with ``verbose``); third-party loggers quiet unless ``verbose``."""
    global _verbose
    _verbose = verbose
    logging.basicConfig(level="DEBUG" if verbose else level, format=LOG_FORMAT)
    for name in THIRD_PARTY + LOUD_THIRD_PARTY:
        quiet(name)


def third_party_level() -> int:
    """The level third-party loggers run at: WARNING, or DEBUG when verbose."""
    return logging.DEBUG if _verbose else logging.WARNING


def quiet(name: str) -> None:
    """Apply the policy to one library logger (again after a library that resets its level on import)."""
    level = third_party_level()
    if name in LOUD_THIRD_PARTY and not _verbose:
        level = logging.ERROR
    logging.getLogger(name).setLevel(level)
