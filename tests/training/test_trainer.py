"""The trainer on a tiny random model: steps, gradient routing, resume, determinism, alignment."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from model.config import ModelConfig
from model.fusion.inputs import Context, ViewTokenizer
from model.labels import TAG_TO_ID, TAGS
from model.predict import AdSentimentModel
from training.batches import Prepared, collate
from training.config import TrainConfig
from training.data.examples import AspectSpan, JmasaExample
from training.trainer import Trainer, compute_losses, encoder_rates, parameter_groups, seed_everything

TEXTS = [
    ("The leather seats feel great but the price is too high.", [("leather seats", "positive"), ("price", "negative")]),
    ("Our battery life lasts two days.", [("battery life", "positive")]),
    ("The screen is dim and the case cracks.", [("screen", "negative"), ("case", "negative")]),
    ("Delivery takes three days.", [("Delivery", "neutral")]),
]


def examples() -> list[JmasaExample]:
    result = []
    for i, (text, terms) in enumerate(TEXTS):
        spans = tuple(AspectSpan(text.index(t), text.index(t) + len(t), t, s) for t, s in terms)
        result.append(JmasaExample(f"ad-{i}", text, spans, overall=terms[0][1]))
    return result


def prepared(config: ModelConfig, with_images: bool = True) -> list[Prepared]:
    rng = np.random.default_rng(0)
    items = []
    for example in examples():
        item = Prepared(example)
        if with_images:
            e = config.vision.tokens_per_crop * 2
            item.context = Context("a red car on a street [SEP] SALE [SEP]", ())
            item.features = rng.normal(size=(e, config.vision.feature_dim)).astype(np.float16)
            teacher = rng.random(config.fusion.num_anps).astype(np.float32)
            item.teacher = teacher / teacher.sum()
        items.append(item)
    return items


@pytest.fixture()
def tiny():
    torch.manual_seed(0)
    return AdSentimentModel.from_config(ModelConfig.tiny(), device="cpu")


def test_gold_tags_follow_character_spans(tiny):
    items = prepared(tiny.config)
    batch = collate(items[:1], tiny.views, tiny.config)
    tokens = tiny.tokenizer.convert_ids_to_tokens(batch.text.input_ids[0])
    tags = [TAGS[i] for i in batch.tags[0].tolist()]
    tagged = [(tok, tag) for tok, tag in zip(tokens, tags) if tag != "O"]
    assert tagged == [("leather", "B-positive"), ("seats", "I-positive"), ("price", "B-negative")]
    # the fused view tags the same ad-copy tokens and nothing in N_z
    fused = batch.fused_tags[0]
    assert fused[: batch.tags.shape[1]][batch.text.copy_mask[0]].tolist() == batch.tags[0][batch.text.copy_mask[0]].tolist()
    assert int((fused[batch.fused.sequence_ids[0] == 1] != TAG_TO_ID["O"]).sum()) == 0


def test_training_steps_reduce_the_loss(tiny, tmp_path):
    config = TrainConfig(lr_pretrained=1e-3, lr_new=1e-2, warmup_ratio=0.0, epochs=1)
    trainer = Trainer(tiny.network, tiny.tokenizer, config, tmp_path, progress=False)
    batch = collate(prepared(tiny.config), trainer.views, tiny.config)
    with torch.no_grad():
        before = compute_losses(tiny.network, batch, config).parts
    assert {"nll_s", "nll_sn", "kl", "anp", "overall", "loss"} <= set(before)
    for _ in range(5):
        trainer.train_step(batch)
    with torch.no_grad():
        after = compute_losses(tiny.network, batch, config).parts
    assert after["loss"] < before["loss"]


def test_kl_gradient_does_not_reach_the_fused_only_parameters(tiny):
    config = TrainConfig().with_loss(eta=0.0, omega=0.0, overall=0.0, epsilon=1.0)
    batch = collate(prepared(tiny.config), ViewTokenizer(tiny.tokenizer, tiny.config.text.max_length), tiny.config)
    tiny.network.train()
    losses = compute_losses(tiny.network, batch, config)
    assert losses.parts["kl"] > 0
    losses.total.backward()
    prefix_grads = [p.grad for p in tiny.network.prefix.parameters()]
    assert all(g is None or float(g.abs().sum()) == 0.0 for g in prefix_grads)
    assert float(tiny.network.emission.weight.grad.abs().sum()) > 0  # the text-only branch moves


def test_resume_restores_optimizer_step_and_epoch(tiny, tmp_path):
    config = TrainConfig(epochs=2, batch_size=2, eval_batch_size=4)
    items = prepared(tiny.config)
    first = Trainer(tiny.network, tiny.tokenizer, replace(config, epochs=1), tmp_path, progress=False)
    first.fit(items, items)
    fresh = AdSentimentModel.from_config(ModelConfig.tiny(), device="cpu")
    second = Trainer(fresh.network, fresh.tokenizer, config, tmp_path, progress=False)
    second.resume(tmp_path / "last", steps_per_epoch=2)
    assert (second.step, second.epoch) == (first.step, first.epoch) == (2, 1)
    saved, restored = first.optimizer.state_dict(), second.optimizer.state_dict()
    assert saved["state"].keys() == restored["state"].keys()
    for key, state in saved["state"].items():
        assert torch.equal(state["exp_avg"], restored["state"][key]["exp_avg"])
    assert second.scheduler.last_epoch == first.scheduler.last_epoch
    for a, b in zip(first.network.state_dict().values(), second.network.state_dict().values()):
        assert torch.equal(a, b)
    second.fit(items, items)
    assert second.epoch == 2 and second.step == 4


def test_deterministic_cpu_mode_gives_identical_losses(tmp_path):
    threads = torch.get_num_threads()

    def run() -> list[float]:
        seed_everything(7, deterministic=True)
        model = AdSentimentModel.from_config(ModelConfig.tiny(), device="cpu")
        torch.manual_seed(7)
        config = TrainConfig(deterministic=True, seed=7)
        trainer = Trainer(model.network, model.tokenizer, config, tmp_path, progress=False)
        batch = collate(prepared(model.config), trainer.views, model.config)
        return [trainer.train_step(batch)["loss"] for _ in range(3)]

    try:
        assert run() == run()
    finally:
        torch.use_deterministic_algorithms(False)
        torch.set_num_threads(threads)


def test_starter_is_reused_when_its_fingerprint_matches(tmp_path):
    import json

    from schemas.settings import Settings
    from training.starter import FINGERPRINT_FILE, StarterConfig, ensure_starter, fingerprint, starter_model_config

    settings = Settings(state_dir=tmp_path)
    config = StarterConfig()
    target = settings.starter_model_dir
    target.mkdir(parents=True)
    (target / "model.safetensors").write_bytes(b"weights")
    key = fingerprint(settings, config, starter_model_config(settings, config))
    (target / FINGERPRINT_FILE).write_text(json.dumps({"fingerprint": key, "trained_at": "then", "seconds": 1.0}))
    result = ensure_starter(settings, config)
    assert result.reused and "reused" in result.message
    other = StarterConfig(images_per_category=config.images_per_category + 1)
    assert fingerprint(settings, other, starter_model_config(settings, other)) != key


def test_starter_sample_takes_the_first_ads_of_each_category():
    from collections import Counter

    from training.data.bundled import BUNDLED
    from training.starter import StarterConfig, sample_filters

    keep, keep_image = sample_filters(StarterConfig(train_per_category=2, dev_per_category=1, images_per_category=1))
    train = BUNDLED["ads"].load("train")
    kept = [e for e in train if keep(e)]
    assert set(Counter(e.category for e in kept).values()) == {2}
    assert len({e.category for e in kept}) == len({e.category for e in train})
    assert sum(keep_image(e) for e in kept) == len(kept) // 2


def test_layer_wise_rates_shrink_towards_the_embeddings(tiny):
    config = TrainConfig(lr_pretrained=1e-4, lr_new=1e-3, lr_layer_decay=0.5)
    rates = encoder_rates(tiny.network, config)
    encoder = tiny.network.text.encoder
    top, bottom = encoder.encoder.layer[-1], encoder.encoder.layer[0]
    assert rates[id(next(top.parameters()))] == pytest.approx(1e-4)
    assert rates[id(next(bottom.parameters()))] == pytest.approx(1e-4 * 0.5)
    assert rates[id(encoder.embeddings.word_embeddings.weight)] == pytest.approx(1e-4 * 0.25)
    lrs = {group["lr"] for group in parameter_groups(tiny.network, config)}
    assert lrs == {1e-4, 5e-5, 2.5e-5, 1e-3}  # the three encoder depths and the new parameters


def test_token_loss_joins_the_objective_with_balanced_weights(tiny, tmp_path):
    config = TrainConfig(epochs=1, batch_size=4).with_loss(token=1.0, label_smoothing=0.1,
                                                           sentiment_weighting="balanced")
    trainer = Trainer(tiny.network, tiny.tokenizer, config, tmp_path, progress=False)
    items = prepared(tiny.config)
    trainer.fit(items, None)
    assert trainer.tag_weights is not None
    # 2 positive, 3 negative, 1 neutral spans: the rarest sentiment weighs most
    weights = dict(zip(TAGS, trainer.tag_weights.tolist()))
    assert weights["O"] == 1.0 and weights["B-neutral"] > weights["B-positive"] > weights["B-negative"]
    parts = compute_losses(tiny.network, collate(items, trainer.views, tiny.config), config, trainer.tag_weights).parts
    assert parts["token"] > 0
