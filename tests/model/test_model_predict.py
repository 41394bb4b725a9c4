"""The classify stage end to end on a tiny random model: events, batching, checkpoints, ablations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from fusion_factories import description, features_event

from model.config import ModelConfig
from model.fusion.errors import ModelError, ModelErrorCode
from model.predict import AdSentimentModel


@pytest.fixture(scope="module")
def model() -> AdSentimentModel:
    return AdSentimentModel.from_config(ModelConfig.tiny(), device="cpu")


def events(config: ModelConfig, count: int = 4) -> list:
    texts = ["Bright red shoes, terrible price!", "Fresh coffee", "We love our new sofa in blue", "Meh."]
    descs = [description(), description(faces=(), regions=0), description(caption="a sofa", ocr="SALE 50%", regions=2),
             description(faces=("a sad man", "an angry woman"), regions=3)]
    return [features_event(config, f"ad-{i}", texts[i % 4], descs[i % 4], seed=i) for i in range(count)]


def comparable(result) -> dict:  # noqa: ANN001
    """A result as plain JSON data, without its timings."""
    return result.model_dump(mode="json", exclude={"emitted_at", "end_to_end_seconds", "stage_seconds"})


def assert_same(left, right) -> None:  # noqa: ANN001
    """Equal structure and strings; numbers within one step of the events' 4-decimal rounding (a
    value at a rounding edge may land on either side when batch shapes change the float sums)."""
    if isinstance(left, dict):
        assert isinstance(right, dict) and left.keys() == right.keys()
        for key in left:
            assert_same(left[key], right[key])
    elif isinstance(left, list):
        assert isinstance(right, list) and len(left) == len(right)
        for a, b in zip(left, right):
            assert_same(a, b)
    elif isinstance(left, float) or isinstance(right, float):
        assert left == pytest.approx(right, abs=2e-4)
    else:
        assert left == right


def test_classify_fills_every_field(model: AdSentimentModel) -> None:
    batch = events(model.config)
    results = model.classify(batch)
    assert [r.ad_id for r in results] == [e.ad.ad_id for e in batch]
    for result, event in zip(results, batch):
        assert result.uploaded_at == event.ad.uploaded_at
        assert result.end_to_end_seconds == pytest.approx((result.emitted_at - event.ad.uploaded_at).total_seconds())
        assert result.end_to_end_seconds >= 1.0
        assert set(result.stage_seconds) == {"describe", "features", "classify"}
        assert sum(result.overall.scores.values()) == pytest.approx(1.0, abs=1e-4)
        assert len(result.concepts) == model.config.fusion.top_v
        assert [c.score for c in result.concepts] == sorted((c.score for c in result.concepts), reverse=True)
        assert result.texts.caption == event.description.caption
        for attribute in result.attributes:
            source = event.ad.text if attribute.segment == "ad_copy" else _segment_text(event.description, attribute)
            assert source[attribute.start:attribute.end] == attribute.term
    assert any(r.attributes for r in results)  # random heads tag something


def _segment_text(desc, attribute) -> str:  # noqa: ANN001
    seg = next(s for s in desc.segments if s.name == attribute.segment and s.index == attribute.segment_index)
    return desc.visual_context[seg.start:seg.end]


def test_batch_of_n_equals_n_batches_of_one(model: AdSentimentModel) -> None:
    batch = events(model.config)
    together = [comparable(r) for r in model.classify(batch)]
    alone = [comparable(model.classify([event])[0]) for event in batch]
    assert_same(together, alone)


def test_save_then_load_gives_identical_outputs(model: AdSentimentModel, tmp_path: Path) -> None:
    batch = events(model.config, 2)
    model.save_pretrained(tmp_path / "ckpt", model_version="test-1")
    loaded = AdSentimentModel.from_pretrained(tmp_path / "ckpt", device="cpu")
    assert loaded.config == model.config and loaded.model_version == "test-1"
    out_a, _, _, _ = model.forward_events(batch)
    out_b, _, _, _ = loaded.forward_events(batch)
    assert torch.equal(out_a.emissions, out_b.emissions)
    assert torch.equal(out_a.anp_logits, out_b.anp_logits)
    assert_same([comparable(r) | {"model_version": ""} for r in model.classify(batch)],
                [comparable(r) | {"model_version": ""} for r in loaded.classify(batch)])
    assert not list((tmp_path / "ckpt").glob("*.bin")) and not list((tmp_path / "ckpt").glob("*.pt"))


def test_calibration_temperatures_travel_with_the_checkpoint(model: AdSentimentModel, tmp_path: Path) -> None:
    from model.fusion.calibration import CALIBRATION, Temperatures

    batch = events(model.config, 2)
    model.save_pretrained(tmp_path / "plain")
    assert not (tmp_path / "plain" / CALIBRATION).exists()
    plain = model.classify(batch)
    model.network.temperatures = Temperatures(attribute=2.0, overall=3.0)
    try:
        model.save_pretrained(tmp_path / "hot")
        loaded = AdSentimentModel.from_pretrained(tmp_path / "hot", device="cpu")
        assert loaded.network.temperatures == Temperatures(attribute=2.0, overall=3.0)
        hot = loaded.classify(batch)
    finally:
        model.network.temperatures = Temperatures()
    for a, b in zip(plain, hot):
        assert a.overall.label == b.overall.label  # labels and spans do not change, only their confidences
        assert max(b.overall.scores.values()) < max(a.overall.scores.values())
        assert [x.term for x in a.attributes] == [x.term for x in b.attributes]


def test_mismatched_preprocessing_version_fails_clearly(model: AdSentimentModel, tmp_path: Path) -> None:
    model.save_pretrained(tmp_path / "ckpt")
    meta_path = tmp_path / "ckpt" / "config.json"
    meta = json.loads(meta_path.read_text())
    meta["preprocessing_version"] = 999
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="preprocessing version 999") as info:
        AdSentimentModel.from_pretrained(tmp_path / "ckpt")
    assert info.value.code == ModelErrorCode.CHECKPOINT_VERSION
    with pytest.raises(ModelError) as missing:
        AdSentimentModel.from_pretrained(tmp_path / "nowhere")
    assert missing.value.code == ModelErrorCode.CHECKPOINT_MISSING


def test_features_from_another_encoder_are_refused(model: AdSentimentModel) -> None:
    event = events(model.config, 1)[0].model_copy(update={"encoder": "efficientnet-lite0@224"})
    with pytest.raises(ModelError) as info:
        model.classify([event])
    assert info.value.code == ModelErrorCode.FEATURES_MISMATCH


def test_two_views_share_one_set_of_weights(model: AdSentimentModel) -> None:
    batch = events(model.config, 2)
    from model.fusion.inputs import compose_context

    contexts = [compose_context(e.description, model.config.ablation).text for e in batch]
    s, sn = model.views.encode_views([e.ad.text for e in batch], contexts)
    visual = model._visual_batch(batch)
    net = model.network
    net.zero_grad()
    tags = torch.zeros_like(s.input_ids)
    out_s = net(s, None, tags=tags)
    out_sn = net(sn, visual, tags=torch.zeros_like(sn.input_ids))
    assert out_s.anp_logits is None and out_s.gate is None
    assert out_sn.anp_logits is not None and out_sn.gate is not None
    width = s.input_ids.shape[1]
    assert out_s.marginals.shape[1] == width and torch.equal(s.copy_mask, sn.copy_mask[:, :width])
    (-out_s.log_likelihood.sum()).backward()
    encoder_grads = [p.grad for p in net.text.parameters() if p.grad is not None]
    assert encoder_grads and all(p.grad is None for p in net.prefix.parameters())  # S touches no prefix weights
    net.zero_grad()


@pytest.mark.parametrize("switches", [{"use_anp": False}, {"use_prefix": False}, {"use_ocr": False, "use_faces": False}])
def test_ablations(switches: dict[str, bool]) -> None:
    config = ModelConfig.tiny().with_ablation(**switches)
    model = AdSentimentModel.from_config(config, device="cpu")
    batch = events(config, 2)
    out, _, text, contexts = model.forward_events(batch)
    results = model.classify(batch)
    if not config.ablation.use_anp:
        assert out.anp_logits is None and all(r.concepts == () for r in results)
    if not config.ablation.use_prefix:
        assert out.gate is None and out.anp_logits is not None
    if not config.ablation.use_ocr:
        assert all("ocr" not in {s.name for s in c.segments} for c in contexts)
        assert all(a.segment in ("ad_copy", "caption") for r in results for a in r.attributes)
