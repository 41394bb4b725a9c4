"""One logging policy for every entry point: our loggers at the configured level, third-party
libraries at WARNING (their load reports, model paths and connection chatter) unless verbose."""

from __future__ import annotations

import logging

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that log routine work at INFO (or, for transformers, an expected load report at WARNING).
THIRD_PARTY = ("kafka", "aiokafka", "faust", "mode", "urllib3", "httpx", "httpcore", "huggingface_hub",
               "sentence_transformers", "ultralytics", "PIL", "filelock")
# Libraries whose WARNINGs are routine here, so only their errors show: transformers reports the pooler
# weights a sentence-transformers checkpoint lacks (expected), RapidOCR warns on every image without text.
LOUD_THIRD_PARTY = ("transformers", "RapidOCR")
_verbose = False


def configure_logging(level: str = "INFO", verbose: bool = False) -> None:
    """Root handler at ``level`` (DEBUG with ``verbose``); third-party loggers quiet unless ``verbose``."""
    global _verbose
    _verbose = verbose
    logging.basicConfig(level="DEBUG" if verbose else level, format=LOG_FORMAT)
    for name in THIRD_PARTY + LOUD_THIRD_PARTY:
        quiet(name)


def library_level(name: str) -> int:
    """The level a third-party logger runs at: WARNING (ERROR for the loud ones), DEBUG when verbose."""
    if _verbose:
        return logging.DEBUG
    return logging.ERROR if name in LOUD_THIRD_PARTY else logging.WARNING


def quiet(name: str) -> None:
    """Apply the policy to one library logger. A library that sets its own level when it is first
    imported (transformers) needs this again after that import: see :func:`quiet_transformers`."""
    logging.getLogger(name).setLevel(library_level(name))


def quiet_transformers() -> None:
    """transformers configures its root logger (level WARNING, own handler) on import, undoing
    :func:`configure_logging`; its modules call this right after importing it."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity(library_level("transformers"))
    if not _verbose:  # its sub-second "Loading weights" bar too
        transformers_logging.disable_progress_bar()
