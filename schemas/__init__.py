"""Versioned event models, their codec and the service settings.

This package imports neither torch nor Faust: every other package depends on it.
"""

from schemas.base import SCHEMA_VERSION, SENTIMENTS
from schemas.codec import decode, encode
from schemas.description import Description, Face, HeadPose, ImageInfo, OcrLine, OcrResult, OcrWord, Region, Segment
from schemas.dataset import AdRecord, AspectRecord
from schemas.errors import ErrorCode, SchemaError
from schemas.events import (
    AdDescribed,
    AdFeatures,
    AdHeader,
    AdSentiment,
    AdUploaded,
    AttributeSentiment,
    DeadLetter,
    FeatureTensor,
    GeneratedTexts,
    ImageRef,
    OverallSentiment,
    SourceRef,
    VisualConcept,
)
from schemas.policy import ValidationPolicy

#: Every model with a committed JSON Schema file, by file name: the five events, the describe
#: stage's output, and one line of the project's JSONL ad dataset format.
EVENTS = {
    "AdUploaded": AdUploaded,
    "AdDescribed": AdDescribed,
    "AdFeatures": AdFeatures,
    "AdSentiment": AdSentiment,
    "DeadLetter": DeadLetter,
    "Description": Description,
    "AdRecord": AdRecord,
}

__all__ = [
    "SCHEMA_VERSION", "SENTIMENTS", "EVENTS", "decode", "encode", "ErrorCode", "SchemaError", "ValidationPolicy",
    "AdUploaded", "AdHeader", "AdDescribed", "AdFeatures", "AdSentiment", "DeadLetter", "ImageRef", "FeatureTensor",
    "AttributeSentiment", "VisualConcept", "OverallSentiment", "GeneratedTexts", "SourceRef",
    "AdRecord", "AspectRecord", "Description", "Face", "HeadPose", "ImageInfo", "OcrLine", "OcrResult", "OcrWord", "Region", "Segment",
]
