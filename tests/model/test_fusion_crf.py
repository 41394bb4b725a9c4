"""The constrained BIO CRF (Eq. 4): valid decoding, exact likelihood and marginals."""

from __future__ import annotations

import itertools

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from model.fusion.crf import BioCrf, allowed_transitions
from model.labels import TAGS, tag_parts

K = len(TAGS)


def is_valid_bio(tags: list[int]) -> bool:
    previous = ("O", None)
    for tag in tags:
        bio, sentiment = tag_parts(TAGS[tag])
        if bio == "I" and (previous[0] == "O" or previous[1] != sentiment):
            return False
        previous = (bio, sentiment)
    return True


def crf(seed: int = 0) -> BioCrf:
    torch.manual_seed(seed)
    model = BioCrf()
    with torch.no_grad():
        model.transitions.normal_(0, 2)  # strong random transitions tempt invalid moves
        model.start_transitions.normal_(0, 2)
    return model


def brute_force(model: BioCrf, emissions: torch.Tensor) -> tuple[torch.Tensor, dict[tuple[int, ...], float]]:
    """log Z and the score of every valid sequence of one short (T, K) emission matrix."""
    scores = {}
    for path in itertools.product(range(K), repeat=emissions.shape[0]):
        if not is_valid_bio(list(path)):
            continue
        s = model.start_transitions[path[0]] + model.end_transitions[path[-1]]
        s = s + sum(emissions[t, p] for t, p in enumerate(path))
        s = s + sum(model.transitions[a, b] for a, b in zip(path, path[1:]))
        scores[path] = float(s)
    log_z = torch.logsumexp(torch.tensor(list(scores.values())), 0)
    return log_z, scores


def test_allowed_transitions_forbid_only_invalid_moves() -> None:
    allowed, start = allowed_transitions()
    for a, b in itertools.product(range(K), repeat=2):
        (bio_a, sent_a), (bio_b, sent_b) = tag_parts(TAGS[a]), tag_parts(TAGS[b])
        assert bool(allowed[a, b]) == (bio_b != "I" or (bio_a != "O" and sent_a == sent_b))
    assert [bool(s) for s in start] == [tag_parts(t)[0] != "I" for t in TAGS]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), lengths=st.lists(st.integers(1, 9), min_size=1, max_size=5))
def test_viterbi_decodes_only_valid_bio(seed: int, lengths: list[int]) -> None:
    model = crf(seed)
    gen = torch.Generator().manual_seed(seed)
    emissions = torch.randn(len(lengths), max(lengths), K, generator=gen) * 3
    mask = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    tags = model.viterbi(emissions, mask)
    for row, length in enumerate(lengths):
        assert is_valid_bio(tags[row, :length].tolist())
        assert tags[row, length:].eq(0).all()


def test_likelihood_marginals_and_viterbi_match_brute_force() -> None:
    model = crf(3)
    emissions = torch.randn(2, 4, K, generator=torch.Generator().manual_seed(4))
    mask = torch.tensor([[True, True, True, True], [True, True, True, False]])
    marginals = model.marginals(emissions, mask)
    best = model.viterbi(emissions, mask)
    for row, length in enumerate((4, 3)):
        with torch.no_grad():
            log_z, scores = brute_force(model, emissions[row, :length])
        assert torch.allclose(model.log_partition(emissions, mask)[row], log_z, atol=1e-4)
        want = torch.zeros(length, K)
        for path, score in scores.items():
            for t, tag in enumerate(path):
                want[t, tag] += torch.exp(torch.tensor(score) - log_z)
        assert torch.allclose(marginals[row, :length], want, atol=1e-5)
        assert torch.allclose(marginals[row, :length].sum(-1), torch.ones(length), atol=1e-5)
        top = max(scores, key=scores.get)
        assert best[row, :length].tolist() == list(top)
        gold = torch.tensor([top + (0,) * (4 - length)])
        ll = model.log_likelihood(emissions[row:row + 1], gold, mask[row:row + 1])
        assert torch.allclose(ll, torch.tensor([scores[top]]) - log_z, atol=1e-4)
    assert marginals[1, 3].eq(0).all()


def test_batched_equals_one_by_one_with_padding() -> None:
    model = crf(5)
    emissions = torch.randn(3, 6, K, generator=torch.Generator().manual_seed(6))
    mask = torch.arange(6)[None, :] < torch.tensor([6, 2, 4])[:, None]
    tags, marg = model.viterbi(emissions, mask), model.marginals(emissions, mask)
    for row, length in enumerate((6, 2, 4)):
        one = emissions[row:row + 1, :length]
        ones = torch.ones(1, length, dtype=torch.bool)
        assert torch.equal(model.viterbi(one, ones)[0], tags[row, :length])
        assert torch.allclose(model.marginals(one, ones)[0], marg[row, :length], atol=1e-6)


def test_log_likelihood_has_gradients_on_pytorch_crf_parameters() -> None:
    model = crf(7)
    emissions = torch.randn(2, 5, K, requires_grad=True)
    tags = torch.tensor([[1, 2, 0, 3, 4], [5, 6, 6, 0, 0]])
    mask = torch.ones(2, 5, dtype=torch.bool)
    (-model.log_likelihood(emissions, tags, mask).sum()).backward()
    assert model.transitions.grad is not None and model.transitions.grad.abs().sum() > 0
    assert emissions.grad is not None and emissions.grad.abs().sum() > 0


def test_a_temperature_divides_every_score_before_forward_backward() -> None:
    model = crf(5)
    emissions = torch.randn(1, 4, K, generator=torch.Generator().manual_seed(6))
    mask = torch.ones(1, 4, dtype=torch.bool)
    log_z, scores = brute_force(model, emissions[0])
    temperature = 2.0
    scaled = {path: score / temperature for path, score in scores.items()}
    norm = torch.logsumexp(torch.tensor(list(scaled.values())), 0)
    want = torch.zeros(4, K)
    for path, score in scaled.items():
        for t, tag in enumerate(path):
            want[t, tag] += torch.exp(torch.tensor(score) - norm)
    assert torch.allclose(model.marginals(emissions, mask, temperature)[0], want, atol=1e-5)
    assert torch.equal(model.marginals(emissions, mask, 1.0), model.marginals(emissions, mask))
    # a hotter temperature flattens the marginals of the best path (calibration never changes it)
    best = model.viterbi(emissions, mask)[0]
    top = model.marginals(emissions, mask)[0].gather(1, best[:, None]).mean()
    flat = model.marginals(emissions, mask, 3.0)[0].gather(1, best[:, None]).mean()
    assert flat < top
