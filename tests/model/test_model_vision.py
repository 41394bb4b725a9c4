"""Multi-scale features of the whole image and its top-C regions (Eq. 5-6)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fusion_factories import description
from PIL import Image

from model.config import ModelConfig, vision_config_for
from model.fusion.errors import ModelError
from model.vision import FeatureExtractor, MultiScalePool, top_regions


def test_pool_merges_scales_and_pools_to_each_grid() -> None:
    shallow, deep = torch.randn(2, 3, 8, 8), torch.randn(2, 5, 2, 2)
    tokens = MultiScalePool((1, 2))([shallow, deep])
    assert tokens.shape == (2, 1 + 4, 3 + 5)
    assert torch.allclose(tokens[:, 0, :3], shallow.mean((2, 3)), atol=1e-6)  # 1x1 grid: the whole map
    assert torch.allclose(tokens[:, 1, :3], shallow[:, :, :4, :4].mean((2, 3)), atol=1e-6)  # top-left quadrant
    up = torch.nn.functional.interpolate(deep, size=(8, 8), mode="bilinear", align_corners=False)
    assert torch.allclose(tokens[:, 4, 3:], up[:, :, 4:, 4:].mean((2, 3)), atol=1e-6)  # deep map upsampled


def upsample_then_pool(maps: list[torch.Tensor], grids: tuple[int, ...]) -> torch.Tensor:
    """Eq. 5-6 written out: every tap upsampled to the finest size, merged, then pooled to each grid."""
    size = max((m.shape[2], m.shape[3]) for m in maps)
    merged = torch.cat([torch.nn.functional.interpolate(m, size=size, mode="bilinear", align_corners=False)
                        if m.shape[2:] != size else m for m in maps], dim=1)
    pooled = [torch.nn.functional.adaptive_avg_pool2d(merged, g).flatten(2) for g in grids]
    return torch.cat(pooled, dim=2).transpose(1, 2)


@pytest.mark.parametrize("sizes, grids", [((56, 28, 14, 7), (1, 2)), ((9, 4, 3), (1, 2, 3)), ((6, 6), (4,))])
def test_pool_equals_upsampling_then_pooling(sizes, grids) -> None:
    maps = [torch.randn(3, 4 + k, side, side + (k % 2)) for k, side in enumerate(sizes)]
    assert torch.allclose(MultiScalePool(grids)(maps), upsample_then_pool(maps, grids), atol=1e-5)


def test_extract_gives_float16_vectors_for_image_and_top_regions() -> None:
    config = ModelConfig.tiny()
    fx = FeatureExtractor(config, "cpu")
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (80, 100, 3), dtype=np.uint8))
    descs = [description(regions=0), description(regions=1), description(regions=5)]
    feats = fx.extract([image] * 3, descs)
    per_crop = config.vision.tokens_per_crop
    assert [f.shape for f in feats] == [(per_crop, 704), (2 * per_crop, 704), (3 * per_crop, 704)]
    assert all(f.dtype == np.float16 for f in feats)
    assert np.array_equal(feats[0], feats[1][:per_crop])  # the whole image comes first, unchanged by regions
    assert fx.name == "resnet-18@64"
    alone = fx.extract([image], [descs[2]])[0]
    assert np.allclose(alone, feats[2], atol=1e-3)


def test_top_regions_by_score() -> None:
    regions = description(regions=4).regions
    assert [r.score for r in top_regions(tuple(reversed(regions)), 2)] == [0.9, 0.8]


def test_backbone_names() -> None:
    assert vision_config_for("resnet-50").feature_dim == 256 + 512 + 1024 + 2048
    assert vision_config_for("microsoft/resnet-152").weights == "microsoft/resnet-152"
    with pytest.raises(ValueError):
        vision_config_for("vgg-16")
    with pytest.raises(ModelError):
        FeatureExtractor(vision_config_for("/nonexistent/resnet-18"), "cpu")


def test_offline_efficientnet_lite0_features() -> None:
    from skimage import data

    fx = FeatureExtractor(ModelConfig.offline_default(), "cpu")
    cat, coffee = Image.fromarray(data.chelsea()), Image.fromarray(data.coffee())
    feats = fx.extract([cat, coffee, cat], [description(regions=0)] * 3)
    assert fx.name == "efficientnet-lite0@224" and feats[0].shape == (5, 1456)
    assert np.isfinite(feats[0]).all() and not np.allclose(feats[0], feats[1], atol=1e-2)
    assert np.allclose(feats[0], feats[2], atol=1e-3)
