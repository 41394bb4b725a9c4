"""Hypothesis strategies that build valid events."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import strategies as st

from schemas import (
    AdSentiment,
    AdUploaded,
    AttributeSentiment,
    DeadLetter,
    GeneratedTexts,
    ImageRef,
    OverallSentiment,
    VisualConcept,
)

ad_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,40}", fullmatch=True)
texts = st.text(max_size=200)
sentiments = st.sampled_from(["positive", "neutral", "negative"])
probabilities = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc))
image_refs = st.one_of(
    st.builds(ImageRef, data=st.binary(min_size=1, max_size=256)),
    st.builds(ImageRef, uri=st.sampled_from(["https://cdn.example.com/a.jpg", "https://cdn.example.com/ads/1.png",
                                             "http://images.example.org/x?y=1"])),
)
ad_uploaded = st.builds(
    AdUploaded, ad_id=ad_ids, image=image_refs, text=texts, uploaded_at=times,
    platform=st.from_regex(r"[a-z]{1,12}", fullmatch=True),
    metadata=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=4),
)
attributes = st.builds(
    AttributeSentiment, term=texts, segment=st.sampled_from(["ad_copy", "caption", "face", "ocr"]),
    dimension=st.sampled_from(["color", "object", "scene", "face", "text"]),
    start=st.integers(0, 100), end=st.integers(0, 100), sentiment=sentiments, confidence=probabilities,
)
ad_sentiment = st.builds(
    AdSentiment, ad_id=ad_ids, model_version=st.just("test-1"),
    overall=st.builds(OverallSentiment, label=sentiments,
                      scores=st.fixed_dictionaries({"positive": probabilities, "neutral": probabilities,
                                                    "negative": probabilities})),
    attributes=st.lists(attributes, max_size=3).map(tuple),
    concepts=st.lists(st.builds(VisualConcept, anp=st.just("happy dog"), score=probabilities, sentiment=sentiments,
                                sentiment_score=st.floats(-2, 2)), max_size=3).map(tuple),
    texts=st.builds(GeneratedTexts, caption=texts), uploaded_at=times, emitted_at=times,
    end_to_end_seconds=st.floats(0, 1e6),
)
dead_letters = st.builds(
    DeadLetter, ad_id=st.one_of(st.none(), texts), stage=st.sampled_from(["intake", "describe", "classify"]),
    code=st.from_regex(r"[a-z_]{1,20}", fullmatch=True), message=texts, exception_type=st.just("ValueError"),
    failed_at=times, payload=st.one_of(st.none(), st.binary(max_size=100)),
)
