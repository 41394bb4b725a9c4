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


def test_transformers_stays_quiet_after_it_configures_itself() -> None:
    import model.fusion.encoder  # noqa: F401 - importing transformers resets its own logger; the module re-applies the policy
    from schemas.logs import quiet_transformers

    configure_logging("INFO")
    quiet_transformers()
    assert logging.getLogger("transformers").getEffectiveLevel() == logging.ERROR
