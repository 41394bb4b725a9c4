"""The loss terms of Eq. 13-15 on hand-made cases."""

from __future__ import annotations

import math

import pytest
import torch

from training.losses import (
    anp_cross_entropy,
    crf_nll,
    overall_cross_entropy,
    text_centred_kl,
    top_v_target,
)


def test_kl_is_zero_when_views_agree():
    p = torch.softmax(torch.randn(2, 5, 7), dim=2)
    mask = torch.ones(2, 5, dtype=torch.bool)
    assert float(text_centred_kl(p, p.clone(), mask)) == pytest.approx(0.0, abs=1e-6)


def test_kl_matches_hand_computed_value_and_ignores_masked_tokens():
    fused = torch.tensor([[[0.5, 0.5], [1.0, 0.0]]])
    text = torch.tensor([[[0.25, 0.75], [0.5, 0.5]]])
    mask = torch.tensor([[True, False]])
    expected = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert float(text_centred_kl(fused, text, mask)) == pytest.approx(expected, rel=1e-5)


def test_kl_gradient_reaches_the_text_only_branch_only():
    fused_logits = torch.randn(1, 3, 4, requires_grad=True)
    text_logits = torch.randn(1, 3, 4, requires_grad=True)
    loss = text_centred_kl(torch.softmax(fused_logits, 2), torch.softmax(text_logits, 2), torch.ones(1, 3).bool())
    loss.backward()
    assert fused_logits.grad is None
    assert text_logits.grad is not None and float(text_logits.grad.abs().sum()) > 0


def test_top_v_target_keeps_the_v_largest_and_renormalises():
    teacher = torch.tensor([[0.1, 0.4, 0.2, 0.3]])
    target = top_v_target(teacher, 2)
    assert torch.allclose(target, torch.tensor([[0.0, 4 / 7, 0.0, 3 / 7]]))
    assert torch.allclose(top_v_target(teacher, None), teacher)
    assert float(top_v_target(teacher, 0).sum()) == 0.0


def test_anp_cross_entropy_hand_computed_and_masked():
    logits = torch.tensor([[0.0, 0.0], [5.0, -5.0]])
    target = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    mask = torch.tensor([True, False])
    assert float(anp_cross_entropy(logits, target, mask)) == pytest.approx(math.log(2), rel=1e-5)
    both = float(anp_cross_entropy(logits, target))
    assert both == pytest.approx((math.log(2) + 10 + math.log1p(math.exp(-10))) / 2, rel=1e-4)


def test_crf_nll_and_overall_cross_entropy():
    assert float(crf_nll(torch.tensor([-1.0, -3.0]))) == pytest.approx(2.0)
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    value = float(overall_cross_entropy(logits, torch.tensor([0, -1])))
    assert value == pytest.approx(-math.log(math.exp(2) / (math.exp(2) + 2)), rel=1e-5)
    none = overall_cross_entropy(logits.requires_grad_(), torch.tensor([-1, -1]))
    assert float(none.detach()) == 0.0
    none.backward()


def test_token_cross_entropy_weights_tokens_by_their_gold_tag():
    from model.labels import TAG_TO_ID
    from training.losses import balanced_tag_weights, token_cross_entropy

    emissions = torch.zeros(1, 3, 7)
    tags = torch.tensor([[TAG_TO_ID["O"], TAG_TO_ID["B-positive"], TAG_TO_ID["B-negative"]]])
    mask = torch.tensor([[True, True, False]])
    assert float(token_cross_entropy(emissions, tags, mask)) == pytest.approx(2 * math.log(7))  # summed per sequence
    weights = balanced_tag_weights(["positive", "positive", "negative"])
    assert float(weights[TAG_TO_ID["O"]]) == 1.0
    assert float(weights[TAG_TO_ID["B-negative"]]) == pytest.approx(3 / (3 * 1))
    assert float(weights[TAG_TO_ID["I-positive"]]) == pytest.approx(3 / (3 * 2))
    assert float(weights[TAG_TO_ID["B-neutral"]]) == 1.0  # never seen
