"""The softmax tag head: valid BIO after repair, per-token likelihood and marginals, and a network that trains with it."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from model.config import ModelConfig
from model.fusion.softmax_tagger import SoftmaxTagger
from model.labels import TAG_TO_ID, TAGS
from model.predict import AdSentimentModel


def one_hot(names: list[str]) -> torch.Tensor:
    emissions = torch.full((1, len(names), len(TAGS)), -5.0)
    for t, name in enumerate(names):
        emissions[0, t, TAG_TO_ID[name]] = 5.0
    return emissions


def test_an_inside_tag_that_cannot_continue_starts_a_span() -> None:
    names = ["I-positive", "I-positive", "O", "I-negative", "B-neutral", "I-negative"]
    mask = torch.ones(1, len(names), dtype=torch.bool)
    decoded = [TAGS[i] for i in SoftmaxTagger().viterbi(one_hot(names), mask)[0].tolist()]
    assert decoded == ["B-positive", "I-positive", "O", "B-negative", "B-neutral", "B-negative"]


def test_masked_positions_decode_to_outside() -> None:
    mask = torch.tensor([[True, True, False]])
    decoded = SoftmaxTagger().viterbi(one_hot(["B-positive", "I-positive", "B-negative"]), mask)
    assert decoded[0].tolist() == [TAG_TO_ID["B-positive"], TAG_TO_ID["I-positive"], 0]


def test_likelihood_is_the_sum_of_token_log_probabilities() -> None:
    torch.manual_seed(0)
    emissions = torch.randn(2, 4, len(TAGS))
    tags = torch.randint(0, len(TAGS), (2, 4))
    mask = torch.tensor([[True] * 4, [True, True, False, False]])
    expected = torch.stack([torch.log_softmax(emissions[b], 1)[torch.arange(4), tags[b]][mask[b]].sum()
                            for b in range(2)])
    tagger = SoftmaxTagger()
    assert torch.allclose(tagger.log_likelihood(emissions, tags, mask), expected)
    marginals = tagger.marginals(emissions, mask, temperature=2.0)
    assert torch.allclose(marginals[mask].sum(1), torch.ones(6))
    assert float(marginals[~mask].abs().sum()) == 0.0


def test_a_network_with_the_softmax_head_decodes_and_learns() -> None:
    torch.manual_seed(0)
    base = ModelConfig.tiny()
    config = replace(base, fusion=replace(base.fusion, tagger="softmax"))
    model = AdSentimentModel.from_config(config, device="cpu")
    text = model.views.encode_text_only(["bright red shoes"])
    tags = torch.zeros_like(text.input_ids)
    tags[0, 1] = TAG_TO_ID["B-positive"]
    optimizer = torch.optim.Adam(model.network.parameters(), lr=1e-2)
    losses = []
    for _ in range(5):
        out = model.network(text, None, tags=tags)
        loss = -out.log_likelihood.mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0]
    assert model.network.tagger is not model.network.crf
    assert set(model.network.state_dict()) == set(AdSentimentModel.from_config(base).network.state_dict())


def test_unknown_heads_are_refused() -> None:
    with pytest.raises(ValueError, match="tagger"):
        replace(ModelConfig.tiny().fusion, tagger="lstm")
