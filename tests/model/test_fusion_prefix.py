"""Visual prefixes in every layer (Eq. 9-12) against plain BERT and a hand-written reference."""

from __future__ import annotations

import math

import pytest
import torch
from transformers import BertConfig, BertModel

from model.config import FusionConfig
from model.fusion.encoder import PrefixEncoder
from model.fusion.prefix import PrefixKV, VisualPrefix

LAYERS, HIDDEN, HEADS = 2, 32, 4
HEAD_DIM = HIDDEN // HEADS


@pytest.fixture(params=["eager", "sdpa"])
def bert(request: pytest.FixtureRequest) -> BertModel:
    torch.manual_seed(0)
    config = BertConfig(vocab_size=99, hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                        intermediate_size=37, max_position_embeddings=64, attn_implementation=request.param)
    return BertModel(config, add_pooling_layer=False).eval()


def inputs(batch: int = 3, steps: int = 7) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(1, 99, (batch, steps), generator=gen)
    mask = torch.ones(batch, steps, dtype=torch.long)
    mask[1, 5:] = 0  # a padded row
    types = torch.zeros(batch, steps, dtype=torch.long)
    types[:, 4:] = 1
    return ids, mask, types


def random_prefix(batch: int, length: int, seed: int = 2) -> PrefixKV:
    gen = torch.Generator().manual_seed(seed)
    shape = (LAYERS, batch, HEADS, length, HEAD_DIM)
    return PrefixKV(keys=torch.randn(shape, generator=gen), values=torch.randn(shape, generator=gen),
                    gate=torch.zeros(batch, LAYERS, 1))


def reference(bert: BertModel, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor,
              prefix: PrefixKV) -> torch.Tensor:
    """softmax(Q [sigma_k; K]^T / sqrt(d)) [sigma_v; V] written out, around BERT's own sublayers."""
    batch, steps = ids.shape
    x = bert.embeddings(input_ids=ids, token_type_ids=types)  # positions 0..T-1
    keep = torch.cat([torch.ones(batch, prefix.length, dtype=torch.bool), mask.bool()], dim=1)  # (B, P + T)
    for m, layer in enumerate(bert.encoder.layer):
        att = layer.attention.self

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, steps, HEADS, HEAD_DIM).transpose(1, 2)  # (B, h, T, d)

        q = heads(att.query(x))
        k = torch.cat([prefix.keys[m], heads(att.key(x))], dim=2)  # (B, h, P + T, d)
        v = torch.cat([prefix.values[m], heads(att.value(x))], dim=2)
        scores = q @ k.transpose(-1, -2) / math.sqrt(HEAD_DIM)
        scores = scores.masked_fill(~keep[:, None, None, :], float("-inf"))
        context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, steps, HIDDEN)
        attended = layer.attention.output(context, x)
        x = layer.output(layer.intermediate(attended), attended)
    return x


def test_empty_prefix_is_exactly_plain_bert(bert: BertModel) -> None:
    ids, mask, types = inputs()
    plain = bert(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    encoder = PrefixEncoder(bert)
    assert torch.allclose(encoder(ids, mask, types, None), plain, atol=1e-6)
    assert torch.allclose(encoder(ids, mask, types, random_prefix(3, 0)), plain, atol=1e-6)


def test_prefix_path_equals_reference_attention(bert: BertModel) -> None:
    ids, mask, types = inputs()
    prefix = random_prefix(3, 4)
    with torch.no_grad():
        got = PrefixEncoder(bert)(ids, mask, types, prefix)
        want = reference(bert, ids, mask, types, prefix)
        plain = bert(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    real = mask.bool()
    assert torch.allclose(got[real], want[real], atol=1e-5)
    assert not torch.allclose(got[real], plain[real], atol=1e-3)  # the prefix does change the text


def test_text_positions_are_not_shifted_by_the_prefix(bert: BertModel) -> None:
    """With zero values and keys that no query prefers, a prefix only dilutes attention; check the
    reference (positions 0..T-1) is met rather than a P-shifted variant."""
    ids, mask, types = inputs()
    prefix = random_prefix(3, 5)
    with torch.no_grad():
        got = PrefixEncoder(bert)(ids, mask, types, prefix)
        shifted = bert(input_ids=ids, attention_mask=torch.cat([torch.ones(3, 5, dtype=torch.long), mask], 1),
                       token_type_ids=types, past_key_values=_cache(prefix)).last_hidden_state
    assert not torch.allclose(got, shifted, atol=1e-4)  # the default would shift positions by P


def _cache(prefix: PrefixKV):  # noqa: ANN202
    from transformers.cache_utils import DynamicCache

    cache = DynamicCache()
    for layer in range(LAYERS):
        cache.update(prefix.keys[layer], prefix.values[layer], layer)
    return cache


def test_gradients_reach_prompt_mlp_gate_and_projection(bert: BertModel) -> None:
    config = FusionConfig(prefix_length=3, prompt_dim=8, prompt_hidden=12, dropout=0.0)
    prefix_module = VisualPrefix(feature_dim=10, tokens_per_crop=2, num_layers=LAYERS, num_heads=HEADS,
                                 hidden_size=HIDDEN, config=config)
    features = torch.randn(3, 6, 10)
    mask = torch.ones(3, 6, dtype=torch.bool)
    mask[2, 2:] = False  # an ad without regions
    ids, att, types = inputs()
    prefix = prefix_module(prefix_module.prompts(features), mask)
    assert prefix.keys.shape == (LAYERS, 3, HEADS, 3, HEAD_DIM)
    PrefixEncoder(bert)(ids, att, types, prefix).sum().backward()
    for name, param in prefix_module.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert torch.isfinite(prefix.gate).all()


def test_gate_is_a_softmax_per_layer_over_image_and_regions() -> None:
    config = FusionConfig(prefix_length=2, prompt_dim=8, prompt_hidden=12, dropout=0.0)
    module = VisualPrefix(feature_dim=10, tokens_per_crop=2, num_layers=LAYERS, num_heads=HEADS,
                          hidden_size=HIDDEN, config=config)
    mask = torch.tensor([[True] * 6, [True, True, False, False, False, False]])
    gate = module(module.prompts(torch.randn(2, 6, 10)), mask).gate  # (B, L, e)
    assert torch.allclose(gate[0, :, :2].sum(-1), torch.ones(LAYERS), atol=1e-5)  # whole image
    assert torch.allclose(gate[0, :, 2:].sum(-1), torch.ones(LAYERS), atol=1e-5)  # regions
    assert torch.allclose(gate[1, :, 2:], torch.zeros(LAYERS, 4))  # no regions: no weight, no NaN
    assert not torch.allclose(gate[0, 0], gate[0, 1])  # each layer has its own gate
