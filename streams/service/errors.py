"""Per-ad failures of a stage, classified into permanent (dead letter now) and transient (retry)."""

from __future__ import annotations

from schemas.errors import stable_code


class StageError(Exception):
    """One ad failed in a stage. ``code`` is stable (it labels metrics and dead letters)."""

    def __init__(self, code: str, message: str, *, transient: bool = False, exception_type: str | None = None) -> None:
        super().__init__(message)
        self.code = stable_code(code)  # a plain [a-z0-9_] string, whatever the caller passed
        self.message = message
        self.transient = transient
        #: The class name of the original exception, for the dead letter.
        self.exception_type = exception_type or type(self).__name__


def classify_exception(exc: BaseException) -> StageError:
    """Map any exception raised while processing one ad to a :class:`StageError`.

    Typed errors of the lower layers keep their code; anything else is an unexpected model or
    runtime error, treated as transient (retried singly with backoff, then dead-lettered).
    """
    if isinstance(exc, StageError):
        return exc
    from schemas import SchemaError

    if isinstance(exc, SchemaError):
        return StageError(exc.code.value, str(exc), exception_type=type(exc).__name__)
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code.replace("_", "").isalnum():  # e.g. model.describe.ImageError
        return StageError(code, str(exc) or type(exc).__name__, exception_type=type(exc).__name__)
    if isinstance(exc, MemoryError):
        return StageError("out_of_memory", "out of memory while processing the ad", transient=True,
                          exception_type="MemoryError")
    return StageError("model_error", f"{type(exc).__name__}: {exc}", transient=True, exception_type=type(exc).__name__)
