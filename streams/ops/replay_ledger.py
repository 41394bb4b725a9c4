"""Which dead letters replay has handled, remembered in the replay consumer group's commits.

Per partition of the dead-letter topic the group commits the offset of the first letter not yet
handled, and in the commit's metadata the handled letters after it: a filtered replay handles
the letters it selects and leaves the others to a later run. So each dead letter is sent back
at most once, whichever replay (filtered or not) sent it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import zlib
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

METADATA_PREFIX = "adsent-replayed-1:"


class ReplayMemoryFullError(RuntimeError):
    """Remembering one more handled letter would make the commit metadata larger than allowed."""


@dataclass(frozen=True)
class PartitionLedger:
    """``offset``: the first letter not handled; ``handled``: the handled letters after it."""

    offset: int
    handled: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, offset: int, metadata: str | None) -> PartitionLedger:
        """The ledger of a commit: its offset and its metadata (empty, or written by :meth:`metadata`)."""
        if not metadata or not metadata.startswith(METADATA_PREFIX):
            return cls(offset)
        try:
            bitmap = zlib.decompress(base64.b64decode(metadata[len(METADATA_PREFIX):], validate=True))
        except (binascii.Error, zlib.error, ValueError):
            log.warning("the replay group's commit metadata is unreadable; it is started afresh")
            return cls(offset)
        return cls(offset, frozenset(offset + 1 + index * 8 + bit for index, byte in enumerate(bitmap)
                                     for bit in range(8) if byte >> bit & 1))

    def is_handled(self, offset: int) -> bool:
        return offset < self.offset or offset in self.handled

    def with_handled(self, offset: int, max_bytes: int) -> PartitionLedger:
        """This ledger with ``offset`` handled too; raises :class:`ReplayMemoryFullError` past ``max_bytes``."""
        if self.is_handled(offset):
            return self
        ledger = _normalised(self.offset, self.handled | {offset})
        if len(ledger.metadata()) > max_bytes:
            raise ReplayMemoryFullError(
                f"remembering {len(ledger.handled)} replayed dead letters after offset {ledger.offset} needs more than "
                f"{max_bytes} bytes of commit metadata (ADSENT_DEADLETTER_REPLAY_MEMORY_BYTES): first replay "
                "without a filter, or with one that selects the oldest letters left")
        return ledger

    def from_offset(self, offset: int) -> PartitionLedger:
        """This ledger with every letter before ``offset`` handled (the ones retention deleted)."""
        return self if offset <= self.offset else _normalised(offset, {o for o in self.handled if o >= offset})

    def metadata(self) -> str:
        """The commit metadata naming the handled letters: a compressed bitmap after ``offset``."""
        if not self.handled:
            return ""
        bitmap = bytearray((max(self.handled) - self.offset - 1) // 8 + 1)
        for offset in self.handled:
            index = offset - self.offset - 1
            bitmap[index // 8] |= 1 << (index % 8)
        return METADATA_PREFIX + base64.b64encode(zlib.compress(bytes(bitmap), 9)).decode("ascii")


def _normalised(first: int, handled: set[int] | frozenset[int]) -> PartitionLedger:
    """A ledger whose offset is moved past the handled letters right at its front."""
    rest = set(handled)
    while first in rest:
        rest.discard(first)
        first += 1
    return PartitionLedger(first, frozenset(rest))
