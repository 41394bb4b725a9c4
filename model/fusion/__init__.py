"""The fused network of Section 2.2: BERT with visual key/value prefixes (Eq. 9-12), a BIO CRF
(Eq. 4), the ANP head (Eq. 7) and the overall-sentiment head, with its two input views."""

from model.fusion.crf import BioCrf
from model.fusion.encoder import PrefixEncoder, load_text_encoder
from model.fusion.errors import ModelError, ModelErrorCode
from model.fusion.inputs import Context, TextBatch, ViewTokenizer, compose_context
from model.fusion.network import AnpHead, FusionNetwork, FusionOutput, VisualBatch
from model.fusion.prefix import PrefixKV, VisualPrefix

__all__ = [
    "AnpHead", "BioCrf", "Context", "FusionNetwork", "FusionOutput", "ModelError", "ModelErrorCode",
    "PrefixEncoder", "PrefixKV", "TextBatch", "ViewTokenizer", "VisualBatch", "VisualPrefix",
    "compose_context", "load_text_encoder",
]
