"""The optional evidence block of AdSentiment: compact, validated, left out when absent."""

from __future__ import annotations

import json

import pytest

from schemas import AdSentiment, ErrorCode, SchemaError, decode, encode
from schemas.evidence import Evidence, GateSummary, RegionEvidence
from tests.streams.report.factories import evidence, result


def test_a_result_with_evidence_round_trips() -> None:
    event = result()
    assert decode(encode(event), AdSentiment) == event


def test_a_result_without_evidence_is_written_as_before_and_read_back() -> None:
    document = json.loads(encode(result(with_evidence=False)))
    assert "evidence" not in document
    assert decode(json.dumps({**document, "schema_version": 1}), AdSentiment).evidence is None
    assert decode(json.dumps({**document, "evidence": None}), AdSentiment).evidence is None


def test_the_block_of_a_served_sized_ad_stays_under_a_kilobyte() -> None:
    size = len(evidence(layers=6, regions=4).model_dump_json())
    assert size < 1024, size


def test_gate_rows_must_be_rectangular_and_split_into_crops() -> None:
    with pytest.raises(ValueError, match="same length"):
        GateSummary(grids=(1, 2), weights=((20,) * 5, (20,) * 10))
    with pytest.raises(ValueError, match="do not split"):
        GateSummary(grids=(1, 2), weights=((20,) * 7,))
    with pytest.raises(ValueError):
        GateSummary(grids=(1, 2), weights=((101, 0, 0, 0, 0),))


def test_the_gate_must_cover_the_whole_image_and_every_region() -> None:
    block = evidence()
    with pytest.raises(ValueError, match="covers 3 crops"):
        Evidence(width=10, height=10, regions=block.regions[:1], gate=block.gate)
    assert Evidence(width=10, height=10, regions=(RegionEvidence(box=(0, 0, 5, 5), label="x", source="whole"),),
                    gate=GateSummary(grids=(1,), weights=((100, 100),))).gate is not None


def test_unknown_evidence_fields_are_refused() -> None:
    document = json.loads(encode(result()))
    document["evidence"]["extra"] = 1
    with pytest.raises(SchemaError) as caught:
        decode(json.dumps(document), AdSentiment)
    assert caught.value.code is ErrorCode.UNEXPECTED_FIELD and caught.value.field == "evidence.extra"
