"""Ads run in process: a failing batch is run again ad by ad and each failure names its stage."""

from __future__ import annotations

from tests.streams.report.factories import result, upload

from model.describe import ImageError
from streams.report.inprocess import run_ads


class FakeModel:
    """Fails ``bad`` ads: in describe with an image error, or in classify with a runtime error."""

    def __init__(self, bad: dict[str, str]) -> None:
        self.bad = bad

    def predict(self, batch):  # noqa: ANN001, ANN201
        if any(ad.ad_id in self.bad for ad in batch):
            raise RuntimeError("one ad of the batch failed")
        return [result(ad.ad_id) for ad in batch]

    def describe_ads(self, batch):  # noqa: ANN001, ANN201
        if self.bad.get(batch[0].ad_id) == "describe":
            raise ImageError("image_corrupt", "cannot identify the image")
        return batch, 0.1

    def encode_ads(self, batch, described, seconds):  # noqa: ANN001, ANN201
        return batch

    def classify(self, events):  # noqa: ANN001, ANN201
        if self.bad.get(events[0].ad_id) == "classify":
            raise RuntimeError("boom")
        return [result(e.ad_id) for e in events]


def test_one_bad_ad_fails_alone_with_its_stage_and_code() -> None:
    ads = [upload(f"ad-{n}", b"x") for n in range(5)]
    done: list[int] = []
    outcomes = run_ads(FakeModel({"ad-1": "describe", "ad-3": "classify"}), ads, batch_size=2, on_ads=done.append)
    assert [o.ad_id for o in outcomes] == [f"ad-{n}" for n in range(5)] and done == [2, 2, 1]
    letters = {o.ad_id: (o.stage, o.code, o.exception_type) for o in outcomes if type(o).__name__ == "DeadLetter"}
    assert letters == {"ad-1": ("describe", "image_corrupt", "ImageError"),
                       "ad-3": ("classify", "model_error", "RuntimeError")}
