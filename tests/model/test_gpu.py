"""CUDA paths: autocast, batching, CPU/GPU agreement, the GPU batch defaults (``gpu``-marked).

They run on tiny configs and on random-weight models of the real sizes (MiniLM-L6 and
EfficientNet-Lite0 architectures, no weight files), so a GPU machine without registry access or
the offline weight packages can run them. Skipped where CUDA is absent.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest
import torch
from fusion_factories import description, features_event
from PIL import Image

from model.config import ModelConfig
from model.precision import autocast, autocast_dtype
from model.predict import AdSentimentModel
from model.vision import FeatureExtractor
from schemas.settings import Settings

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (gpu-marked)")]
MINILM_L6 = dict(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                 intermediate_size=1536, max_position_embeddings=512, type_vocab_size=2)
CUDA = torch.device("cuda")


def real_size_random() -> ModelConfig:
    """The offline default's architecture with random weights."""
    base = ModelConfig.offline_default()
    return replace(base, text=replace(base.text, pretrained=False, bert=MINILM_L6),
                   vision=replace(base.vision, pretrained=False))


CONFIGS = {"tiny": ModelConfig.tiny, "real-size": real_size_random}


def cpu_and_gpu(config: ModelConfig) -> tuple[AdSentimentModel, AdSentimentModel]:
    torch.manual_seed(0)
    cpu = AdSentimentModel.from_config(config, device="cpu")
    gpu = AdSentimentModel(cpu.config, copy.deepcopy(cpu.network), cpu.tokenizer, cpu.model_version, device=CUDA)
    return cpu, gpu


def events(config: ModelConfig, count: int) -> list:
    texts = ["Bright red shoes, terrible price!", "Fresh coffee every morning", "We love our new blue sofa"]
    descs = [description(), description(faces=(), regions=0), description(caption="a sofa", ocr="SALE", regions=2)]
    return [features_event(config, f"ad-{i}", texts[i % 3], descs[i % 3], seed=i) for i in range(count)]


def test_autocast_picks_bfloat16_where_supported() -> None:
    expected = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    assert autocast_dtype(CUDA) == expected and autocast_dtype(torch.device("cpu")) is None
    with autocast(CUDA):
        assert (torch.ones(2, 2, device=CUDA) @ torch.ones(2, 2, device=CUDA)).dtype == expected


@pytest.mark.parametrize("name", CONFIGS)
def test_gpu_forward_matches_the_cpu_within_mixed_precision(name: str) -> None:
    config = CONFIGS[name]()
    cpu, gpu = cpu_and_gpu(config)
    batch = events(config, 6)
    out_cpu, *_ = cpu.forward_events(batch)
    out_gpu, *_ = gpu.forward_events(batch)
    assert out_gpu.emissions.dtype == torch.float32  # the CRF runs in float32 after autocast
    np.testing.assert_allclose(out_gpu.emissions.cpu().numpy(), out_cpu.emissions.numpy(), atol=0.1, rtol=0.05)
    for a, b in zip(cpu.classify(batch), gpu.classify(batch)):
        assert a.overall.scores == pytest.approx(b.overall.scores, abs=0.05)


@pytest.mark.parametrize("name", CONFIGS)
def test_gpu_batch_of_n_equals_n_batches_of_one(name: str) -> None:
    config = CONFIGS[name]()
    _, gpu = cpu_and_gpu(config)
    batch = events(config, 8)
    together = gpu.classify(batch)
    alone = [gpu.classify([event])[0] for event in batch]
    for a, b in zip(together, alone):
        assert a.overall.label == b.overall.label
        assert a.overall.scores == pytest.approx(b.overall.scores, abs=0.02)


def test_the_gpu_batch_defaults_fit_a_real_size_model() -> None:
    """A classify batch of ``classify_max_batch_gpu`` ads at the longest input, and a features batch
    of ``features_max_batch_gpu`` images with regions, run on the device without running out of memory."""
    settings, config = Settings(), real_size_random()
    _, gpu = cpu_and_gpu(config)
    long_copy = " ".join(["Bright red shoes at a terrible price"] * 40)  # truncated to max_length
    batch = [features_event(config, f"ad-{i}", long_copy, description(regions=3), seed=i)
             for i in range(settings.classify_max_batch_gpu)]
    assert len(gpu.classify(batch, max_padding=float("inf"))) == len(batch)
    extractor = FeatureExtractor(config, CUDA)
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)) for _ in
              range(settings.features_max_batch_gpu)]
    arrays = extractor.extract(images, [description(regions=3)] * len(images))
    assert len(arrays) == len(images) and all(a.shape[1] == config.vision.feature_dim for a in arrays)
    torch.cuda.synchronize()


def test_features_on_the_gpu_match_the_cpu() -> None:
    config = real_size_random()
    torch.manual_seed(0)
    cpu = FeatureExtractor(config, "cpu")
    gpu = FeatureExtractor(config, CUDA)
    gpu.backbone.load_state_dict(cpu.backbone.state_dict())
    rng = np.random.default_rng(1)
    images = [Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)) for _ in range(3)]
    descriptions = [description(regions=2)] * 3
    for a, b in zip(cpu.extract(images, descriptions), gpu.extract(images, descriptions)):
        np.testing.assert_allclose(b.astype(np.float32), a.astype(np.float32), atol=0.05, rtol=0.05)
