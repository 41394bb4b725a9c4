"""Length-aware batching of classify passes."""

from __future__ import annotations

from model.fusion.batching import length_groups


def padded(lengths, group):
    return max(lengths[i] for i in group) * len(group)


def test_every_index_once_in_length_order():
    lengths = [50, 10, 30, 10, 90, 31]
    groups = length_groups(lengths, max_padding=0.25)
    flat = [i for g in groups for i in g]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths)


def test_each_group_stays_within_the_padding_budget():
    lengths = [120, 64, 70, 200, 66, 130, 250, 90, 64, 180]
    for group in length_groups(lengths, max_padding=0.25):
        assert padded(lengths, group) <= 1.25 * sum(lengths[i] for i in group) or len(group) == 1


def test_equal_lengths_make_one_group_and_infinite_padding_never_splits():
    assert length_groups([40] * 5, max_padding=0.0) == [[0, 1, 2, 3, 4]]
    assert len(length_groups([10, 200, 30], max_padding=float("inf"))) == 1
    assert length_groups([], max_padding=0.25) == []
