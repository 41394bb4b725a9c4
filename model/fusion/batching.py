"""Length-aware batching: ads of similar length together, so a batch is not mostly padding."""

from __future__ import annotations

from collections.abc import Sequence


def length_groups(lengths: Sequence[int], max_padding: float) -> list[list[int]]:
    """Indices of ``lengths`` sorted by length and cut into runs padded to at most ``1 + max_padding``
    times their real tokens (a run pads every member to its longest). Every index appears once.

    A batch of ads padded to its longest one spends the padding's compute for nothing: in a mix of
    ads of 1.0-1.8 GFLOP each, a batch of 16 ran 1.8 GFLOP for every ad.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    groups: list[list[int]] = []
    current: list[int] = []
    real = 0
    for index in order:
        longest = lengths[index]  # ascending order: the newcomer is the run's longest
        if current and longest * (len(current) + 1) > (1 + max_padding) * (real + longest):
            groups.append(current)
            current, real = [], 0
        current.append(index)
        real += longest
    if current:
        groups.append(current)
    return groups
