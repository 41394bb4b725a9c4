"""Dead letters that always fit in one Kafka message, and the replay count a replayed message carries.

A letter is measured as encoded: when it is over the limit its payload is left out (the source
reference still points at the original), and then its texts are cut by their JSON-escaped length
(a control character takes six bytes there), so the producer never refuses a dead letter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic_core import to_json

from schemas import DeadLetter, SourceRef, encode
from schemas.base import StageName
from schemas.errors import stable_code
from schemas.events import DEAD_LETTER_AD_ID_MAX, DEAD_LETTER_EXCEPTION_TYPE_MAX, DEAD_LETTER_MESSAGE_MAX

#: Kafka header of a message replay sent back to a stage: how often the ad was replayed there.
REPLAYS_HEADER = "adsent-replays"
# Texts cut, in this order, while a letter without payload is still too large.
_CUTTABLE = ("message", "exception_type", "ad_id")


class DeadLetterTooLargeError(ValueError):
    """Not even a dead letter without payload and texts fits the message limit."""


def dead_letter(max_bytes: int, *, ad_id: str | None, stage: StageName, code: object, message: str,
                exception_type: str, attempts: int, payload: bytes | None, source: SourceRef | None,
                replays: int = 0) -> tuple[DeadLetter, bytes]:
    """A dead letter and its encoding of at most ``max_bytes``; ``code`` made a stable code."""
    letter = DeadLetter(
        ad_id=None if ad_id is None else _valid_text(ad_id, DEAD_LETTER_AD_ID_MAX), stage=stage,
        code=stable_code(code), message=_valid_text(message, DEAD_LETTER_MESSAGE_MAX),
        exception_type=_valid_text(exception_type, DEAD_LETTER_EXCEPTION_TYPE_MAX), attempts=attempts,
        payload=payload, source=source, replays=replays)
    return fit(letter, max_bytes)


def fit(letter: DeadLetter, max_bytes: int) -> tuple[DeadLetter, bytes]:
    """``letter`` and its encoding, shrunk to at most ``max_bytes``: payload left out, then texts cut."""
    if letter.payload is not None and _base64_length(len(letter.payload)) < max_bytes:
        value = encode(letter)
        if len(value) <= max_bytes:
            return letter, value
    letter = letter.model_copy(update={"payload": None})
    value = encode(letter)
    for name in _CUTTABLE:
        if len(value) <= max_bytes:
            return letter, value
        letter = letter.model_copy(update={name: _cut(getattr(letter, name), len(value) - max_bytes)})
        value = encode(letter)
    if len(value) > max_bytes:
        raise DeadLetterTooLargeError(f"a dead letter without payload and texts has {len(value)} bytes; "
                                      f"the limit is {max_bytes}")
    return letter, value


def encoded_length(text: str) -> int:
    """Bytes of ``text`` inside a JSON string as events are encoded (escapes counted, quotes not)."""
    return len(to_json(text)) - 2


def _cut(text: str | None, over: int) -> str | None:
    """The longest prefix of ``text`` whose encoding is at least ``over`` bytes shorter."""
    if text is None:
        return None
    budget = encoded_length(text) - over
    low, high = 0, len(text)
    while low < high:  # the longest prefix within the budget (encoded length grows with the prefix)
        middle = (low + high + 1) // 2
        if encoded_length(text[:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    return text[:low]


def _valid_text(text: str, max_chars: int) -> str:
    """``text`` cut to ``max_chars`` with any unpaired surrogate replaced (JSON cannot carry one)."""
    return text[:max_chars].encode("utf-8", errors="replace").decode("utf-8")


def _base64_length(size: int) -> int:
    return 4 * ((size + 2) // 3)


def replays_of(headers: Iterable[tuple[str, bytes]] | Mapping[str, bytes] | None) -> int:
    """The replay count in a message's headers (0 when absent or not a count)."""
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
    for name, value in pairs:
        if name == REPLAYS_HEADER:
            try:
                return max(int(bytes(value or b"").decode("ascii")), 0)
            except (UnicodeDecodeError, ValueError):
                return 0
    return 0


def replay_headers(replays: int) -> list[tuple[str, bytes]]:
    """Headers of a message replay sends back: the ad's replay count at that stage."""
    return [(REPLAYS_HEADER, str(replays).encode("ascii"))]
