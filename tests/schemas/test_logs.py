"""The logging policy: third-party libraries quiet unless verbose."""

from __future__ import annotations

import logging

from schemas.logs import configure_logging, library_level


def test_third_party_loggers_are_quiet_unless_verbose() -> None:
    try:
        configure_logging("INFO")
        assert logging.getLogger("aiokafka").level == logging.WARNING
        assert logging.getLogger("transformers").level == library_level("RapidOCR") == logging.ERROR
        configure_logging("INFO", verbose=True)
        assert logging.getLogger("aiokafka").level == logging.getLogger("transformers").level == logging.DEBUG
    finally:
        configure_logging("INFO")
